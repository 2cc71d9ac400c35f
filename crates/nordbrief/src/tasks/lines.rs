//! Lines translated one by one (NTREX-128 for `eval translate`), with the
//! translations optionally kept for scoring again.

use std::path::PathBuf;

use crate::generate::Generator;
use crate::ingest::Language;
use crate::pipeline::translate::{translate_lines, TranslateOptions};
use crate::pipeline::{PipelineEvent, Stage};
use crate::prompts::PromptSet;

pub struct LineTranslator<'a> {
    pub generator: Box<dyn Generator>,
    pub prompts: &'a PromptSet,
    pub options: TranslateOptions,
    /// Where `<lang>.txt` is written, one English line per source line.
    pub save_dir: Option<PathBuf>,
}

impl LineTranslator<'_> {
    /// The English of `lines` in language `lang` (an ISO 639-3 code);
    /// `on_line(done, total)` as each line is reached.
    pub fn translate(
        &mut self,
        lang: &str,
        lines: &[String],
        on_line: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<String>, String> {
        let language =
            Language::from_code(lang).ok_or_else(|| format!("unknown language `{lang}`"))?;
        let mut on_event = |e: PipelineEvent| {
            if let PipelineEvent::Stage(Stage::Translate {
                paragraph,
                paragraphs,
            }) = e
            {
                on_line(paragraph, paragraphs);
            }
        };
        let english = translate_lines(
            self.generator.as_mut(),
            self.prompts,
            language,
            lines,
            &self.options,
            &mut on_event,
        )
        .map_err(|e| e.to_string())?;
        if let Some(dir) = &self.save_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let path = dir.join(format!("{lang}.txt"));
            let text: String = english
                .iter()
                .map(|l| format!("{}\n", l.replace('\n', " ")))
                .collect();
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(english)
    }
}
