//! Subcommands and their flags. Everything here parses, calls the library
//! and presents results; the work itself lives in the library.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nordbrief::batch::{
    brief_outputs, settings_sha256, Batch, BatchError, BatchEvent, BriefTask, DocumentOutcome,
    DocumentTask, Outcome, Shard, TaskLoader,
};
use nordbrief::brief::ModelInfo;
use nordbrief::generate::{AnswerMemo, Generator, ModelGenerator, Progress, ScriptedGenerator};
use nordbrief::model::{self, ResolveOptions, ResolvedModel};
use nordbrief::pipeline::translate::{TranslateOptions, TranslateTask, TranslationFormat};
use nordbrief::pipeline::{BriefOptions, PipelineEvent, Stage};
use nordbrief::prompts::PromptSet;

/// `print!` and `println!` for results on standard output, which end quietly
/// when the reader has gone (`nordbrief inspect big.txt | head`) and with a
/// clear error when the output cannot be written (a full disk), instead of
/// the panic of the std macros.
macro_rules! out {
    ($($arg:tt)*) => { write_stdout(format_args!($($arg)*)) };
}
macro_rules! outln {
    ($($arg:tt)*) => { write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(args).and_then(|_| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            std::process::exit(EXIT_ERROR.into());
        }
    }
}

/// Exit codes, as documented in the README.
const EXIT_SOME_FAILED: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "nordbrief",
    version,
    about = "English briefs of Swedish, Danish and Norwegian documents, made by a local model",
    long_about = "English briefs (title, summary, key points) of Swedish, Danish and Norwegian \
(bokmål and nynorsk) documents, made on this machine by a small quantized model.\n\n\
The model is fetched on first use from Hugging Face (honouring HF_HOME, HF_ENDPOINT, \
HF_TOKEN and HF_HUB_OFFLINE) or from the mirror its manifest names, and verified by sha256.\n\n\
Exit codes: 0 all done, 1 some documents failed, 2 the run could not start (bad flag, \
missing file, model unavailable)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Brief documents: print one brief, or write DIR/<id>.json and DIR/<id>.md for many.
    Brief(BriefArgs),
    /// Translate documents into English paragraph by paragraph, keeping headings, list items and every number.
    Translate(TranslateArgs),
    /// One English Markdown briefing across all briefs in a folder (no model needed).
    Digest {
        /// A folder of briefs written by `nordbrief brief --out`.
        dir: PathBuf,
        /// Write the digest here instead of printing it.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Show a document as the model will see it: cleaned paragraphs, language, counts, rules fired.
    Inspect(InspectArgs),
    /// Measure the model's speed here: load time, prefill and decode tok/s, peak memory.
    Bench(BenchArgs),
    /// Score briefs against hand-written references (report.json, report.md, report.html); `compare` two reports; score translations.
    Eval(EvalArgs),
    /// List, download or verify the models nordbrief knows.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Args, Clone)]
struct ModelArgs {
    /// Model id from the built-in manifests (see `nordbrief models list`).
    #[arg(long, env = "NORDBRIEF_MODEL", conflicts_with = "model_path")]
    model: Option<String>,
    /// A local GGUF file (or a folder holding one) to use instead of a manifest's model.
    #[arg(long, value_name = "FILE")]
    model_path: Option<PathBuf>,
    /// Use a hub file that has no sha256 pin in its manifest, recording its hash on first use.
    #[arg(long, env = "NORDBRIEF_ALLOW_UNPINNED")]
    allow_unpinned: bool,
    /// CPU threads for inference [default: all cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Answer from a JSON file of canned answers instead of a model (for testing the pipeline).
    #[arg(long, hide = true, value_name = "FILE", conflicts_with_all = ["model", "model_path"])]
    scripted_answers: Option<PathBuf>,
}

#[derive(Args)]
struct BriefArgs {
    /// Files or folders (searched recursively for .txt .md .html .htm .docx .pdf); `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    inputs: Vec<PathBuf>,
    /// Write one brief per document into DIR (JSON and Markdown), skipping unchanged documents.
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the brief as JSON instead of Markdown (single document without --out).
    #[arg(long)]
    json: bool,
    /// Quote each key point's supporting sentence, in the original language, in the Markdown brief.
    #[arg(long)]
    quotes: bool,
    /// Redo documents even when their inputs, model, prompts and settings are unchanged, and ask
    /// the model again instead of reusing the answers kept in DIR/.nordbrief-cache.
    #[arg(long)]
    force: bool,
    /// Process only shard K of N (by a hash of each document id), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Most document tokens in one prompt; longer documents are read in chunks (map-reduce).
    #[arg(long, default_value_t = BriefOptions::default().context_budget, value_name = "TOKENS")]
    context_budget: usize,
    /// Most tokens of notes the brief of a long document is written from in one prompt; more
    /// notes are condensed first by taking notes on them.
    #[arg(long, default_value_t = BriefOptions::default().reduce_budget, value_name = "TOKENS")]
    reduce_budget: usize,
    /// Parts of a long document whose notes are written together. Writing is bound by reading
    /// the model's weights, which is done once per step for all of them, so 4 parts take about
    /// twice as long as one, not four times; each holds its own cache while written (~130 MB
    /// with the default model).
    /// 1 writes them one at a time (the least memory). Greedy output differs slightly between
    /// values (other kernels sum in another order).
    #[arg(long, default_value_t = BriefOptions::default().parallel, value_name = "N")]
    parallel: usize,
    /// Most tokens the model may write for the brief.
    #[arg(long, default_value_t = BriefOptions::default().settings.max_new_tokens, value_name = "N")]
    max_new_tokens: usize,
    /// Sampling temperature; 0 is greedy and reproducible.
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Nucleus sampling threshold (with --temperature > 0).
    #[arg(long)]
    top_p: Option<f64>,
    /// Random seed for sampling.
    #[arg(long, default_value_t = BriefOptions::default().settings.seed)]
    seed: u64,
    /// Penalty for repeating recent tokens (1.0 disables it).
    #[arg(long, default_value_t = BriefOptions::default().settings.repeat_penalty)]
    repeat_penalty: f32,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct TranslateArgs {
    /// Files or folders (searched recursively for .txt .md .html .htm .docx .pdf); `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    inputs: Vec<PathBuf>,
    /// Write DIR/<id>.en.json (each source ¶ beside its English) and DIR/<id>.en.<FORMAT> per document, skipping unchanged documents.
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// md (headings as # headings), txt or json (source and English aligned by ¶ id).
    #[arg(long, default_value = "md", value_name = "FORMAT")]
    format: TranslationFormat,
    /// Redo documents even when their inputs, model, prompts and settings are unchanged, and ask
    /// the model again instead of reusing the answers kept in DIR/.nordbrief-cache.
    #[arg(long)]
    force: bool,
    /// Process only shard K of N (by a hash of each document id), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Most source tokens sent in one prompt (a group of paragraphs).
    #[arg(long, default_value_t = TranslateOptions::default().group_budget, value_name = "TOKENS")]
    group_budget: usize,
    /// Most tokens the model may write in one answer.
    #[arg(long, default_value_t = TranslateOptions::default().settings.max_new_tokens, value_name = "N")]
    max_new_tokens: usize,
    /// Sampling temperature; 0 is greedy and reproducible.
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Nucleus sampling threshold (with --temperature > 0).
    #[arg(long)]
    top_p: Option<f64>,
    /// Random seed for sampling.
    #[arg(long, default_value_t = TranslateOptions::default().settings.seed)]
    seed: u64,
    /// Penalty for repeating recent tokens (1.0 disables it).
    #[arg(long, default_value_t = TranslateOptions::default().settings.repeat_penalty)]
    repeat_penalty: f32,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// Files to inspect; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Count tokens with this model's tokenizer, when it is cached [default: the default model].
    #[arg(long, env = "NORDBRIEF_MODEL")]
    model: Option<String>,
}

#[derive(Args)]
struct BenchArgs {
    /// Prompt lengths to time prefill at.
    #[arg(long, value_delimiter = ',', default_value = "512,2048")]
    prefill: Vec<usize>,
    /// New tokens to time decode over.
    #[arg(long, default_value_t = 128)]
    decode: usize,
    /// Context lengths to time decode at.
    #[arg(long, value_delimiter = ',', default_value = "16,4096")]
    decode_context: Vec<usize>,
    /// Answers written together to time decode with, as `brief --parallel` writes the notes
    /// of several parts (tgN@CxP: P answers; tok/s counts all their tokens).
    #[arg(long, value_delimiter = ',', default_value = "1,4", value_name = "P")]
    parallel: Vec<usize>,
    /// Runs per figure (the median is reported), after one warm-up.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Prompt tokens per forward pass [default: as in generation].
    #[arg(long, value_name = "N")]
    prefill_batch: Option<usize>,
    /// Also time `brief` end to end on these documents (a fresh output folder, nothing skipped).
    #[arg(long, value_name = "PATH")]
    seeds: Option<PathBuf>,
    /// Keep the briefs of the end-to-end run in DIR (emptied first) so they
    /// can be evaluated with `nordbrief eval --briefs DIR`.
    #[arg(long, value_name = "DIR", requires = "seeds")]
    seeds_out: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Known models: id, size, whether cached and where.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download (or assemble from the mirror) and verify a model.
    Pull {
        /// Model id [default: the default model].
        id: Option<String>,
        #[arg(long, env = "NORDBRIEF_ALLOW_UNPINNED")]
        allow_unpinned: bool,
    },
    /// Re-hash every cached file of a model against its pins.
    Verify { id: Option<String> },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NORDBRIEF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and its causes on one line, without repeating a cause that the
/// message already quotes.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Brief(args) => brief(args),
        Command::Translate(args) => translate(args),
        Command::Inspect(args) => inspect(args),
        Command::Digest { dir, out } => digest(&dir, out.as_deref()),
        Command::Bench(args) => bench(args),
        Command::Models { command } => models(command),
        Command::Eval(args) => eval(args),
    }
}

fn set_threads(threads: Option<usize>) -> usize {
    // candle and rayon both read this before their first parallel call.
    let n = threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    n
}

fn resolve_model(args: &ModelArgs, quiet: bool) -> Result<ResolvedModel> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = quiet || !std::io::stderr().is_terminal();
    opts.allow_unpinned |= args.allow_unpinned;
    if let Some(path) = &args.model_path {
        return model::resolve_path(path, &opts)
            .with_context(|| format!("cannot use model file {}", path.display()));
    }
    let id = args.model.clone().unwrap_or_else(model::default_model_id);
    let manifest = model::find_manifest_in(&id, opts.models_dir.as_deref())?;
    model::resolve(&manifest, &opts).with_context(|| format!("cannot obtain model `{id}`"))
}

/// What the brief records as its model, and how to load the generator when
/// there is work: the real model, or canned answers for tests.
type GeneratorLoader = Box<dyn FnOnce() -> Result<(Box<dyn Generator>, f64), BatchError>>;

fn generator_loader(args: &ModelArgs, quiet: bool) -> Result<(ModelInfo, GeneratorLoader)> {
    if let Some(path) = &args.scripted_answers {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let scripted: ScriptedGenerator = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a scripted-answers file", path.display()))?;
        let info = ModelInfo {
            id: "scripted".into(),
            sha256: nordbrief::batch::sha256_hex(&bytes),
        };
        return Ok((
            info,
            Box::new(move || Ok((Box::new(scripted) as Box<dyn Generator>, 0.0))),
        ));
    }
    let model = resolve_model(args, quiet)?;
    let info = ModelInfo {
        id: model.id.clone(),
        sha256: model.sha256.clone(),
    };
    let loader: GeneratorLoader = Box::new(move || {
        let loaded = nordbrief::model::load::load(&model.path)?;
        let seconds = loaded.load_seconds;
        Ok((
            Box::new(ModelGenerator::new(loaded)) as Box<dyn Generator>,
            seconds,
        ))
    });
    Ok((info, loader))
}

/// Where a batch keeps the model's answers, so an interrupted or re-run
/// batch does not ask the model again for what it already answered.
const ANSWER_MEMO_DIR: &str = ".nordbrief-cache/answers";

/// `load_generator`, answering from (and into) OUT's memo of answers;
/// `refresh` (--force) asks the model again.
fn with_answer_memo(
    load_generator: GeneratorLoader,
    model: &ModelInfo,
    out: &std::path::Path,
    refresh: bool,
) -> GeneratorLoader {
    let dir = out.join(ANSWER_MEMO_DIR);
    let sha256 = model.sha256.clone();
    Box::new(move || {
        let (generator, seconds) = load_generator()?;
        let mut memo = AnswerMemo::new(generator, dir, &sha256);
        memo.refresh = refresh;
        Ok((Box::new(memo) as Box<dyn Generator>, seconds))
    })
}

fn brief_batch(
    inputs: Vec<PathBuf>,
    out: PathBuf,
    force: bool,
    shard: Option<Shard>,
    model: &ModelInfo,
    options: &BriefOptions,
    prompts: &PromptSet,
) -> Batch {
    Batch {
        inputs,
        out,
        force,
        shard,
        kind: "brief",
        model_sha256: model.sha256.clone(),
        prompt_versions: prompts.versions().clone(),
        settings_sha256: settings_sha256(&(options, prompts.text_sha256())),
        outputs: brief_outputs,
    }
}

fn brief_task<'a>(
    load_generator: GeneratorLoader,
    model: ModelInfo,
    options: BriefOptions,
    prompts: &'a PromptSet,
) -> TaskLoader<'a> {
    Box::new(move || {
        let (generator, load_seconds) = load_generator()?;
        Ok(Box::new(BriefTask {
            generator,
            load_seconds,
            model,
            options,
            prompts,
        }) as Box<dyn DocumentTask + 'a>)
    })
}

fn brief_options(args: &BriefArgs) -> Result<BriefOptions> {
    if args.context_budget < 256 {
        bail!(
            "--context-budget {} is too small; use at least 256 tokens",
            args.context_budget
        );
    }
    if args.reduce_budget < args.context_budget {
        bail!(
            "--reduce-budget {} is smaller than --context-budget {}; the notes of one part must fit",
            args.reduce_budget,
            args.context_budget
        );
    }
    if args.parallel == 0 {
        bail!("--parallel 0 writes nothing; use 1 to write one part's notes at a time");
    }
    let mut options = BriefOptions {
        context_budget: args.context_budget,
        reduce_budget: args.reduce_budget,
        quotes: args.quotes,
        parallel: args.parallel,
        ..BriefOptions::default()
    };
    options.settings.max_new_tokens = args.max_new_tokens;
    options.settings.temperature = args.temperature;
    options.settings.top_p = args.top_p;
    options.settings.seed = args.seed;
    options.settings.repeat_penalty = args.repeat_penalty;
    Ok(options)
}

/// A progress display on a terminal, plain log lines otherwise.
struct Display {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Display {
    fn new(quiet: bool) -> Self {
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

    fn event(&mut self, event: BatchEvent) {
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

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What `brief` and `translate` share before their batch runs.
struct BatchSetup {
    documents: Vec<PathBuf>,
    /// One document without --out: printed, not written to a folder.
    single: bool,
    model: ModelInfo,
    load_generator: GeneratorLoader,
    out: PathBuf,
    /// Holds the output folder of a single document until the run ends.
    scratch: Option<tempfile::TempDir>,
}

/// Check the inputs before fetching a model (`what`: "brief",
/// "translation"), then resolve the model and the output folder; a batch
/// answers from OUT's memo of model answers (`force` asks again).
fn prepare_batch(
    inputs: &[PathBuf],
    out: Option<&std::path::Path>,
    model_args: &ModelArgs,
    quiet: bool,
    force: bool,
    what: &str,
) -> Result<BatchSetup> {
    let documents = nordbrief::batch::collect_inputs(inputs)?;
    let single = out.is_none();
    if single && documents.len() > 1 {
        bail!(
            "{} documents given; pass --out DIR to write one {what} per document",
            documents.len()
        );
    }
    let (model, load_generator) = generator_loader(model_args, quiet)?;
    let (out, scratch) = match out {
        Some(dir) => (dir.to_path_buf(), None),
        None => {
            let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
            (scratch.path().to_path_buf(), Some(scratch))
        }
    };
    let load_generator = if single {
        load_generator
    } else {
        with_answer_memo(load_generator, &model, &out, force)
    };
    Ok(BatchSetup {
        documents,
        single,
        model,
        load_generator,
        out,
        scratch,
    })
}

fn brief(args: BriefArgs) -> Result<ExitCode> {
    set_threads(args.model.threads);
    let options = brief_options(&args)?;
    let prompts = PromptSet::from_env().context("cannot load the prompt templates")?;
    let BatchSetup {
        documents,
        single,
        model,
        load_generator,
        out,
        scratch: _scratch,
    } = prepare_batch(
        &args.inputs,
        args.out.as_deref(),
        &args.model,
        args.quiet,
        args.force,
        "brief",
    )?;
    let batch = brief_batch(
        documents,
        out.clone(),
        args.force || single,
        args.shard,
        &model,
        &options,
        &prompts,
    );
    let mut display = Display::new(args.quiet || single);
    let outcomes = batch.run(
        brief_task(load_generator, model, options, &prompts),
        &mut |e| display.event(e),
    )?;
    display.finish();
    let ext = if args.json { "json" } else { "md" };
    let output_of = |id: &str| out.join(format!("{id}.{ext}"));
    finish_batch(
        &outcomes,
        single,
        args.quiet,
        &out,
        ("brief", "briefed"),
        output_of,
    )
}

/// Ends a batch command: a single document's output (or its error) is
/// printed; a batch says what was done, and exits 1 if any document failed.
fn finish_batch(
    outcomes: &[DocumentOutcome],
    single: bool,
    quiet: bool,
    out: &Path,
    (output_noun, done_verb): (&str, &str),
    single_output: impl Fn(&str) -> PathBuf,
) -> Result<ExitCode> {
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Failed { .. }))
        .collect();
    if single {
        if let Some(o) = failed.first() {
            if let Outcome::Failed { reason } = &o.outcome {
                // Most reasons already name the file.
                if reason.contains(&*o.source.to_string_lossy()) {
                    bail!("{reason}");
                }
                bail!("{}: {reason}", o.source.display());
            }
        }
        let text = std::fs::read_to_string(single_output(&outcomes[0].id))
            .with_context(|| format!("cannot read the {output_noun} back"))?;
        outln!("{}", text.trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    let done = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Done { .. }))
        .count();
    let unchanged = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::Unchanged)
        .count();
    if !quiet {
        eprintln!(
            "{done} {done_verb}, {unchanged} unchanged, {} failed → {}",
            failed.len(),
            out.display()
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SOME_FAILED)
    })
}

fn translate_options(args: &TranslateArgs) -> Result<TranslateOptions> {
    if args.group_budget < 32 {
        bail!(
            "--group-budget {} is too small; use at least 32 tokens",
            args.group_budget
        );
    }
    let mut options = TranslateOptions {
        group_budget: args.group_budget,
        ..TranslateOptions::default()
    };
    options.settings.max_new_tokens = args.max_new_tokens;
    options.settings.temperature = args.temperature;
    options.settings.top_p = args.top_p;
    options.settings.seed = args.seed;
    options.settings.repeat_penalty = args.repeat_penalty;
    Ok(options)
}

fn translate_task<'a>(
    load_generator: GeneratorLoader,
    model: ModelInfo,
    options: TranslateOptions,
    prompts: &'a PromptSet,
    format: TranslationFormat,
) -> TaskLoader<'a> {
    Box::new(move || {
        let (generator, load_seconds) = load_generator()?;
        Ok(Box::new(TranslateTask {
            generator,
            load_seconds,
            model,
            options,
            prompts,
            format,
        }) as Box<dyn DocumentTask + 'a>)
    })
}

fn translate(args: TranslateArgs) -> Result<ExitCode> {
    set_threads(args.model.threads);
    let options = translate_options(&args)?;
    let prompts = PromptSet::from_env().context("cannot load the prompt templates")?;
    let BatchSetup {
        documents,
        single,
        model,
        load_generator,
        out,
        scratch: _scratch,
    } = prepare_batch(
        &args.inputs,
        args.out.as_deref(),
        &args.model,
        args.quiet,
        args.force,
        "translation",
    )?;
    let batch = Batch {
        inputs: documents,
        out: out.clone(),
        force: args.force || single,
        shard: args.shard,
        kind: "translate",
        model_sha256: model.sha256.clone(),
        prompt_versions: prompts.versions().clone(),
        settings_sha256: settings_sha256(&(&options, prompts.text_sha256())),
        outputs: args.format.outputs(),
    };
    let format = args.format;
    let mut display = Display::new(args.quiet || single);
    let outcomes = batch.run(
        translate_task(load_generator, model, options, &prompts, format),
        &mut |e| display.event(e),
    )?;
    display.finish();
    let output_of = |id: &str| out.join(format.file_name(id));
    finish_batch(
        &outcomes,
        single,
        args.quiet,
        &out,
        ("translation", "translated"),
        output_of,
    )
}

fn digest(dir: &std::path::Path, out: Option<&std::path::Path>) -> Result<ExitCode> {
    let mut briefs = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_none_or(|e| e != "json")
            || path
                .file_name()
                .is_some_and(|n| n == nordbrief::batch::RUN_MANIFEST)
        {
            continue;
        }
        // Other JSON (a report, say) is not a brief: skip it quietly.
        if let Ok(brief) = serde_json::from_slice::<nordbrief::brief::Brief>(&std::fs::read(&path)?)
        {
            briefs.push(brief);
        }
    }
    if briefs.is_empty() {
        bail!(
            "no briefs in {}; write some with `nordbrief brief PATH --out {}`",
            dir.display(),
            dir.display()
        );
    }
    let md = nordbrief::brief::digest::digest(&briefs);
    match out {
        Some(path) => {
            std::fs::write(path, md).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => out!("{md}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The tokenizer of a cached model, if there is one (inspect never downloads).
fn cached_tokenizer(id: Option<&str>) -> Option<(String, tokenizers::Tokenizer)> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = true;
    let id = id.map(String::from).unwrap_or_else(model::default_model_id);
    let status = model::list(&opts)
        .ok()?
        .into_iter()
        .find(|m| m.id == id && m.cached)?;
    let tokenizer = nordbrief::model::load::load_tokenizer_only(&status.path?).ok()?;
    Some((id, tokenizer))
}

fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let mut failed = false;
    let tokenizer = cached_tokenizer(args.model.as_deref());
    for file in &args.files {
        match nordbrief::ingest::ingest_path(file) {
            Ok(doc) => {
                let tokens = tokenizer.as_ref().and_then(|(id, t)| {
                    t.encode(doc.body_text().as_str(), false)
                        .ok()
                        .map(|e| (id, e.get_ids().len()))
                });
                if args.json {
                    let mut value = serde_json::to_value(&doc)?;
                    value["tokens"] = serde_json::json!(
                        tokens.map(|(id, n)| serde_json::json!({ "model": id, "count": n }))
                    );
                    outln!("{}", serde_json::to_string_pretty(&value)?);
                } else {
                    let mut text = doc.render_inspect();
                    match tokens {
                        Some((id, n)) => text.push_str(&format!("tokens:      {n} ({id})\n")),
                        None => text.push_str("tokens:      unknown (the model is not cached; `nordbrief models pull`)\n"),
                    }
                    outln!("{text}");
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

fn bench(args: BenchArgs) -> Result<ExitCode> {
    let threads = set_threads(args.model.threads);
    let model = resolve_model(&args.model, false)?;
    let mut loaded = nordbrief::model::load::load(&model.path)?;
    // Scandinavian text from the seeds makes the token mix realistic.
    let text = nordbrief::batch::collect_inputs(&[PathBuf::from("seeds")])
        .ok()
        .and_then(|paths| paths.first().and_then(|p| std::fs::read_to_string(p).ok()))
        .unwrap_or_else(|| {
            "Integrationspolitik har blivit en allt viktigare fråga i alla medlemsstater. "
                .repeat(50)
        });
    let config = nordbrief::bench::BenchConfig {
        prefill_tokens: args.prefill.clone(),
        decode_tokens: args.decode,
        decode_contexts: args.decode_context.clone(),
        parallel: args.parallel.clone(),
        runs: args.runs,
        prefill_batch: args
            .prefill_batch
            .unwrap_or(nordbrief::generate::GenerationSettings::default().prefill_batch)
            .max(1),
        ..Default::default()
    };
    let report = nordbrief::bench::run(&mut loaded, &text, &config, threads)?;
    drop(loaded);
    let mut end_to_end = None;
    let mut seed_stages = Vec::new();
    if let Some(seeds) = &args.seeds {
        let prompts = PromptSet::from_env()?;
        let scratch = tempfile::tempdir()?;
        let out = match &args.seeds_out {
            Some(dir) => {
                // A timing counts only when nothing is skipped or reused.
                if dir.exists() {
                    std::fs::remove_dir_all(dir)
                        .with_context(|| format!("cannot empty {}", dir.display()))?;
                }
                dir.clone()
            }
            None => scratch.path().to_path_buf(),
        };
        let (model_info, load_generator) = generator_loader(&args.model, true)?;
        let options = BriefOptions::default();
        let batch = brief_batch(
            vec![seeds.clone()],
            out.clone(),
            true,
            None,
            &model_info,
            &options,
            &prompts,
        );
        let start = std::time::Instant::now();
        let outcomes = batch.run(
            brief_task(load_generator, model_info, options, &prompts),
            &mut |_| {},
        )?;
        let seconds = start.elapsed().as_secs_f64();
        let failed = outcomes
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Failed { .. }))
            .count();
        let per_document: Vec<_> = outcomes
            .iter()
            .map(|o| match &o.outcome {
                Outcome::Done { seconds, .. } => {
                    serde_json::json!({ "id": o.id, "seconds": seconds })
                }
                _ => serde_json::json!({ "id": o.id, "seconds": null }),
            })
            .collect();
        // Where the time went, from the timings each brief records.
        let mut timings = Vec::new();
        for o in &outcomes {
            if matches!(o.outcome, Outcome::Done { .. }) {
                let path = out.join(format!("{}.json", o.id));
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the brief {}", path.display()))?;
                let brief: nordbrief::brief::Brief = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a brief", path.display()))?;
                timings.push(brief.timings);
            }
        }
        seed_stages = nordbrief::bench::sum_stages(&timings);
        end_to_end = Some(serde_json::json!({
            "documents": outcomes.len(),
            "failed": failed,
            "wall_seconds": seconds,
            // The whole process's peak, the model's tests above included.
            "peak_rss_bytes": nordbrief::bench::peak_rss_bytes(),
            "per_document": per_document,
            "stages": &seed_stages,
        }));
    }
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["model_id"] = serde_json::json!(model.id);
        value["model_sha256"] = serde_json::json!(model.sha256);
        value["brief_seeds"] = serde_json::json!(end_to_end);
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        outln!("{}", report.to_table());
        if let Some(e) = end_to_end {
            let peak = e["peak_rss_bytes"]
                .as_f64()
                .map(|b| format!("{:.0} MB", b / 1e6))
                .unwrap_or_else(|| "?".into());
            outln!(
                "brief end to end: {} documents in {:.1}s ({} failed), peak RSS {peak}",
                e["documents"],
                e["wall_seconds"].as_f64().unwrap_or(0.0),
                e["failed"]
            );
            for d in e["per_document"].as_array().into_iter().flatten() {
                match d["seconds"].as_f64() {
                    Some(s) => outln!("  {:<28} {s:>8.1}s", d["id"].as_str().unwrap_or("?")),
                    None => outln!("  {:<28} failed", d["id"].as_str().unwrap_or("?")),
                }
            }
            outln!("\n{}", nordbrief::bench::stage_table(&seed_stages));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_size(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

fn models(command: ModelsCommand) -> Result<ExitCode> {
    let mut opts = ResolveOptions::from_env();
    opts.quiet = !std::io::stderr().is_terminal();
    match command {
        ModelsCommand::List { json } => {
            let list = model::list(&opts)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            for m in list {
                let mark = if m.default { "*" } else { " " };
                let size = m.size_bytes.map(human_size).unwrap_or_else(|| "?".into());
                let place = match (&m.path, m.cached) {
                    (Some(p), true) => format!("cached at {}", p.display()),
                    _ => "not cached".to_string(),
                };
                outln!("{mark} {:<32} {:>8}  {place}", m.id, size);
            }
            outln!("(* default; `nordbrief models pull ID` downloads one)");
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Pull { id, allow_unpinned } => {
            opts.allow_unpinned |= allow_unpinned;
            let id = id.unwrap_or_else(model::default_model_id);
            let manifest = model::find_manifest_in(&id, opts.models_dir.as_deref())?;
            let resolved = model::resolve(&manifest, &opts)
                .with_context(|| format!("cannot obtain model `{id}`"))?;
            outln!(
                "{} {} ({}, sha256 {})",
                resolved.id,
                resolved.path.display(),
                resolved.source,
                resolved.sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Verify { id } => {
            let id = id.unwrap_or_else(model::default_model_id);
            let manifest = model::find_manifest_in(&id, opts.models_dir.as_deref())?;
            let report = model::verify(&manifest, &opts)?;
            for f in &report.files {
                outln!(
                    "{} {} {} ({})",
                    if f.ok { "ok  " } else { "BAD " },
                    f.role,
                    f.path.display(),
                    f.sha256
                );
            }
            if report.files.is_empty() {
                bail!(
                    "model `{id}` has no cached file to verify; run `nordbrief models pull {id}`"
                );
            }
            Ok(if report.all_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_SOME_FAILED)
            })
        }
    }
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct EvalArgs {
    #[command(subcommand)]
    command: Option<EvalCommand>,
    /// Folder of briefs (<id>.json, as `nordbrief brief --out DIR` writes them).
    #[arg(long, value_name = "DIR", required = true)]
    briefs: Option<PathBuf>,
    /// Folder of hand-written references (<id>.json).
    #[arg(long, value_name = "DIR", default_value = "eval/references")]
    references: PathBuf,
    /// Where <id>.txt sources are looked for when a brief's source path does not exist.
    #[arg(long, value_name = "DIR", default_value = "seeds")]
    sources: PathBuf,
    /// Folder for report.json, report.md and report.html [default: the briefs folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Exit 1 when the mean of METRIC is below VALUE, e.g. rouge_lsum=0.2 (repeatable).
    #[arg(long, value_name = "METRIC=VALUE", value_delimiter = ',')]
    fail_under: Vec<nordbrief::eval::report::Floor>,
    /// Read more floors from a TOML file with a [fail_under] table, e.g. eval/floor.toml.
    #[arg(long, value_name = "FILE")]
    floor: Option<PathBuf>,
    /// Print report.json instead of the Markdown table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Print the deltas (B − A) of two report.json files, per metric and document.
    Compare {
        a: PathBuf,
        b: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Score English translations of NTREX-128 with chrF++ and BLEU, per language, by sentence and by document.
    Translate(EvalTranslateArgs),
}

#[derive(Args)]
struct EvalTranslateArgs {
    /// The NTREX-128 folder (ntrex128.<lang>.txt, DOCUMENT_IDS.tsv); the repository keeps it in eval/ntrex/data.
    #[arg(long, value_name = "DIR", default_value = "eval/ntrex/data")]
    data: PathBuf,
    /// Source languages to score.
    #[arg(long, value_delimiter = ',', default_value = "swe,dan,nob,nno")]
    langs: Vec<String>,
    /// Leading lines scored sentence by sentence.
    #[arg(long, default_value_t = 250)]
    lines: usize,
    /// Leading news documents scored whole.
    #[arg(long, default_value_t = 10)]
    documents: usize,
    /// Folder of finished English translations, <lang>.txt, one line per NTREX line; without it the model translates the lines.
    #[arg(long, value_name = "DIR")]
    hypotheses: Option<PathBuf>,
    /// Also write the model's translations to DIR/<lang>.txt, to score them again with --hypotheses.
    #[arg(long, value_name = "DIR", conflicts_with = "hypotheses")]
    save_hypotheses: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    use nordbrief::eval::{report, run};
    match args.command {
        Some(EvalCommand::Compare { a, b, json }) => {
            let comparison = report::compare(&run::read_report(&a)?, &run::read_report(&b)?);
            if json {
                outln!("{}", serde_json::to_string_pretty(&comparison)?);
            } else {
                outln!(
                    "A = {}\nB = {}\n\n{}",
                    a.display(),
                    b.display(),
                    comparison.to_table().trim_end()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(EvalCommand::Translate(t)) => return eval_translate(t),
        None => {}
    }
    let Some(briefs) = args.briefs else {
        bail!("--briefs DIR is required")
    };
    let mut floors = args.fail_under.clone();
    if let Some(path) = &args.floor {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the floor file {}", path.display()))?;
        floors.extend(
            report::Floor::from_toml(&text)
                .with_context(|| format!("{} is not a valid floor file", path.display()))?,
        );
    }
    let options = run::EvalOptions {
        references_dir: args.references,
        sources_dir: args.sources,
        ..run::EvalOptions::new(briefs.clone())
    };
    let evaluation = run::evaluate(&options)?;
    let out = args.out.unwrap_or(briefs);
    let files = run::write_reports(&evaluation, &out)?;
    if args.json {
        outln!("{}", std::fs::read_to_string(&files.json)?.trim_end());
    } else {
        outln!("{}", evaluation.to_markdown().trim_end());
    }
    eprintln!(
        "wrote {}, {} and {}",
        files.json.display(),
        files.markdown.display(),
        files.html.display()
    );
    let failures = report::check_floors(&evaluation.means, &floors);
    for failure in &failures {
        eprintln!("FAIL: {failure}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SOME_FAILED)
    })
}

fn eval_translate(args: EvalTranslateArgs) -> Result<ExitCode> {
    use nordbrief::eval::translation;
    let data = translation::Ntrex::load(&args.data, &args.langs)?;
    let plan = translation::TranslationPlan {
        lines: args.lines,
        documents: args.documents,
    };
    let report = match &args.hypotheses {
        Some(dir) => translation::evaluate_translation(
            &data,
            plan,
            &mut translation::hypotheses_from_dir(dir),
        )?,
        None => {
            set_threads(args.model.threads);
            let prompts = PromptSet::from_env().context("cannot load the prompt templates")?;
            let (model, load_generator) = generator_loader(&args.model, false)?;
            let (mut generator, _) = load_generator()?;
            if let Some(dir) = &args.save_hypotheses {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let options = TranslateOptions::default();
            let mut translator =
                |lang: &str, lines: &[String]| -> std::result::Result<Vec<String>, String> {
                    let language = nordbrief::ingest::Language::from_code(lang)
                        .ok_or_else(|| format!("unknown language `{lang}`"))?;
                    let start = std::time::Instant::now();
                    let mut on_event = |e: PipelineEvent| {
                        if let PipelineEvent::Stage(Stage::Translate {
                            paragraph,
                            paragraphs,
                        }) = e
                        {
                            eprintln!(
                                "{lang}: line {paragraph}/{paragraphs} ({:.0} s)",
                                start.elapsed().as_secs_f64()
                            );
                        }
                    };
                    let english = nordbrief::pipeline::translate::translate_lines(
                        generator.as_mut(),
                        &prompts,
                        language,
                        lines,
                        &options,
                        &mut on_event,
                    )
                    .map_err(|e| e.to_string())?;
                    eprintln!(
                        "{lang}: {} lines translated by {} in {:.1} s",
                        lines.len(),
                        model.id,
                        start.elapsed().as_secs_f64()
                    );
                    if let Some(dir) = &args.save_hypotheses {
                        let path = dir.join(format!("{lang}.txt"));
                        let text: String = english
                            .iter()
                            .map(|l| format!("{}\n", l.replace('\n', " ")))
                            .collect();
                        std::fs::write(&path, text)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    }
                    Ok(english)
                };
            translation::evaluate_translation(&data, plan, &mut translator)?
        }
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!("{}", report.to_table().trim_end());
    }
    Ok(ExitCode::SUCCESS)
}
