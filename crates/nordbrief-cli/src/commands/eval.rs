//! `nordbrief eval`: score briefs against references, compare two
//! reports, score translations of NTREX-128.

use anyhow::{bail, Context, Result};
use std::process::ExitCode;

use super::{generator_source, load_embedder, set_threads};
use crate::args::{EvalArgs, EvalCommand, EvalFaithfulnessArgs, EvalTranslateArgs};
use crate::output::exit_code;
use nordbrief::pipeline::TranslateOptions;
use nordbrief::prompts::PromptSet;
use nordbrief::tasks::{generator_loader, LineTranslator};

pub fn run(args: EvalArgs) -> Result<ExitCode> {
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
        Some(EvalCommand::Translate(t)) => return translate(t),
        Some(EvalCommand::Faithfulness(f)) => return faithfulness(f),
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
    let embedder = if args.no_embeddings {
        None
    } else {
        Some(load_embedder(&args.embedding, false, true)?)
    };
    let evaluation = run::evaluate(
        &options,
        embedder.as_ref().map(|e| e as &dyn nordbrief::model::Embed),
    )?;
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
    Ok(exit_code(!failures.is_empty()))
}

fn translate(args: EvalTranslateArgs) -> Result<ExitCode> {
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
            let (model, load_generator) = generator_loader(generator_source(&args.model, false)?)?;
            let (generator, _) = load_generator()?;
            let mut translator = LineTranslator {
                generator,
                prompts: &prompts,
                options: TranslateOptions::default(),
                save_dir: args.save_hypotheses.clone(),
            };
            let mut translate =
                |lang: &str, lines: &[String]| -> std::result::Result<Vec<String>, String> {
                    let start = std::time::Instant::now();
                    let english = translator.translate(lang, lines, &mut |done, total| {
                        eprintln!(
                            "{lang}: line {done}/{total} ({:.0} s)",
                            start.elapsed().as_secs_f64()
                        )
                    })?;
                    eprintln!(
                        "{lang}: {} lines translated by {} in {:.1} s",
                        lines.len(),
                        model.id,
                        start.elapsed().as_secs_f64()
                    );
                    Ok(english)
                };
            translation::evaluate_translation(&data, plan, &mut translate)?
        }
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!("{}", report.to_table().trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

fn faithfulness(args: EvalFaithfulnessArgs) -> Result<ExitCode> {
    let embedder = load_embedder(&args.embedding, false, args.json)?;
    let report = nordbrief::eval::faithfulness::run(&args.data, &args.sources, Some(&embedder))
        .with_context(|| format!("cannot run the benchmark in {}", args.data.display()))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!("| planted error | hand-made: caught | of them as that kind | by program: caught |");
    outln!("|---|---:|---:|---:|");
    let kinds: std::collections::BTreeSet<&String> =
        report.hand.keys().chain(report.planted.keys()).collect();
    for kind in kinds {
        let cell = |s: Option<&nordbrief::eval::faithfulness::KindScore>| {
            s.map(|s| format!("{}/{} ({:.0} %)", s.caught, s.planted, 100.0 * s.recall))
                .unwrap_or_else(|| "–".into())
        };
        let as_kind = report
            .hand
            .get(kind)
            .map(|s| format!("{}", s.caught_as_kind))
            .unwrap_or_else(|| "–".into());
        outln!(
            "| {kind} | {} | {as_kind} | {} |",
            cell(report.hand.get(kind)),
            cell(report.planted.get(kind))
        );
    }
    outln!(
        "\nfalse alarms on correct sentences: {}/{} ({:.1} %) {:?}",
        report.false_alarms,
        report.clean_sentences,
        100.0 * report.false_alarm_rate,
        report.false_alarms_by_kind
    );
    outln!("missed: {}", report.missed.len());
    for m in &report.missed {
        outln!("  {} {}: {}", m.id, m.kind, m.sentence);
    }
    for (sentence, findings) in &report.false_alarm_examples {
        let what: Vec<String> = findings
            .iter()
            .map(|f| format!("{} \"{}\"", f.kind.name(), f.words))
            .collect();
        outln!("  false alarm: {sentence}\n    {}", what.join("; "));
    }
    outln!("{:.1}s", report.seconds);
    Ok(ExitCode::SUCCESS)
}
