//! The work behind the commands, above the pipeline and the batch layer:
//! the brief and translation tasks a batch runs, the model (or canned
//! answers) that writes them, the seeds timed end to end, and lines
//! translated for scoring.

mod brief;
mod generator;
mod lines;
mod seeds;
mod translate;

pub use brief::{brief_batch, brief_outputs, brief_task, BriefTask};
pub use generator::{
    generator_loader, with_answer_memo, GeneratorLoader, GeneratorSource, TaskError,
    ANSWER_MEMO_DIR, EMBEDDING_MEMO_DIR,
};
pub use lines::LineTranslator;
pub use seeds::{brief_end_to_end, DocumentSeconds, EndToEnd};
pub use translate::{translate_batch, translate_task, TranslateTask};
