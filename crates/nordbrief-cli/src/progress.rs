//! Progress of a batch: a bar on a terminal, plain log lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

use nordbrief::batch::{BatchEvent, Outcome};
use nordbrief::generate::Progress;
use nordbrief::pipeline::{PipelineEvent, Stage};

pub struct Display {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Display {
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} docs · eta {eta} · {msg}",
                )
                .expect("valid template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self { bar, quiet }
    }

    fn log(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }

    pub fn event(&mut self, event: BatchEvent) {
        match event {
            BatchEvent::Planned { total, to_do } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(total as u64);
                    bar.set_position((total - to_do) as u64);
                }
                self.log(format!(
                    "{total} documents, {to_do} to brief, {} unchanged",
                    total - to_do
                ));
            }
            BatchEvent::LoadingModel => {
                if let Some(bar) = &self.bar {
                    bar.set_message("loading model");
                }
            }
            BatchEvent::Started { index, total, id } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{id} ({index}/{total})"));
                } else {
                    self.log(format!("[{index}/{total}] {id}"));
                }
            }
            BatchEvent::Pipeline(PipelineEvent::Stage(stage)) => {
                let what = match stage {
                    Stage::Notes { first, last, parts } if first == last => {
                        format!("notes {first}/{parts}")
                    }
                    Stage::Notes { first, last, parts } => format!("notes {first}–{last}/{parts}"),
                    Stage::Brief { attempt: 1 } => "brief".to_string(),
                    Stage::Brief { attempt } => format!("brief, attempt {attempt}"),
                    Stage::LatePoints => "key points from the last parts".to_string(),
                    Stage::KeyPoints => "key points asked for".to_string(),
                    Stage::Title => "title asked for".to_string(),
                    Stage::Summary { words } => {
                        format!("summary again (had {words} words)")
                    }
                    Stage::Translate {
                        paragraph,
                        paragraphs,
                    } => format!("¶{paragraph}/{paragraphs}"),
                };
                if let Some(bar) = &self.bar {
                    let msg = bar.message();
                    let doc = msg.split(" · ").next().unwrap_or_default().to_string();
                    bar.set_message(format!("{doc} · {what}"));
                } else if !matches!(stage, Stage::Translate { .. }) {
                    // Without a terminal (cron, CI logs) a line per stage shows a long document moving.
                    self.log(format!("  {what}"));
                }
            }
            BatchEvent::Pipeline(PipelineEvent::Generation(p)) => {
                if let (Some(bar), Progress::Prefill { done, total }) = (&self.bar, *p) {
                    bar.set_message(format!(
                        "{} · reading {done}/{total} tokens",
                        bar.message().split(" · ").next().unwrap_or_default()
                    ));
                }
            }
            BatchEvent::Finished(o) => {
                let line = match &o.outcome {
                    Outcome::Done {
                        seconds,
                        warnings: 0,
                    } => format!("done {} in {seconds:.1}s", o.id),
                    Outcome::Done { seconds, warnings } => {
                        format!("done {} in {seconds:.1}s ({warnings} warnings)", o.id)
                    }
                    Outcome::Unchanged => return,
                    Outcome::Failed { reason } => format!("FAILED {}: {reason}", o.id),
                };
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                self.log(line);
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
