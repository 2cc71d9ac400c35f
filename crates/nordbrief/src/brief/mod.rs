//! The brief: what nordbrief produces for one document, with its JSON
//! (serde) and Markdown renderings.

mod digest;
mod record;
mod translation;

pub use digest::digest;
pub use record::{
    Brief, BriefMethod, GenerationInfo, KeyPointSources, LanguageLabel, ModelInfo, SourceRef,
    StageTiming, Timings, SCHEMA_VERSION,
};
pub use translation::{Flag, GlossaryEntry, TranslatedParagraph, Translation, TranslationFormat};

#[cfg(test)]
pub(crate) use record::tests;
