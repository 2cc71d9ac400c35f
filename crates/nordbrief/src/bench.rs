//! Speed and memory of a model on this machine: load time, prefill and
//! decode throughput at given context lengths, peak resident memory. Each
//! figure is the median of several runs after a warm-up.

use serde::Serialize;
use std::time::Instant;

use crate::brief::{StageTiming, Timings};
use crate::model::LoadedModel;

#[derive(Debug, Clone, Serialize)]
pub struct BenchConfig {
    /// Prompt lengths to time prefill at.
    pub prefill_tokens: Vec<usize>,
    /// New tokens to time decode over.
    pub decode_tokens: usize,
    /// Context lengths (tokens already cached) to time decode at.
    pub decode_contexts: Vec<usize>,
    /// Answers written together to time decode with (as `brief --parallel`
    /// writes the notes of several parts); 1 is plain decode.
    pub parallel: Vec<usize>,
    /// Prompt tokens read per forward pass, as in generation.
    pub prefill_batch: usize,
    pub runs: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            prefill_tokens: vec![512, 2048],
            decode_tokens: 128,
            decode_contexts: vec![16, 4096],
            parallel: vec![1],
            prefill_batch: crate::generate::GenerationSettings::default().prefill_batch,
            runs: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// e.g. "pp512", "tg128@4096", "tg128@16x4" (four answers written
    /// together; tokens per second counts the tokens of all four).
    pub test: String,
    pub tokens_per_second: f64,
    /// Every run, for judging the spread.
    pub runs: Vec<f64>,
    /// CPU time the process used per second of wall time over the runs
    /// (near `threads` on a quiet machine; lower means other work took the
    /// cores and the figure understates this machine's speed).
    pub cpu_per_wall: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub threads: usize,
    pub load_seconds: f64,
    pub measurements: Vec<Measurement>,
    pub peak_rss_bytes: Option<u64>,
    /// SIMD features this binary was compiled with (candle picks its kernels at compile time).
    pub simd: Vec<&'static str>,
}

/// The SIMD features compiled into this binary.
pub fn compiled_simd() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(target_feature = "avx") {
        features.push("avx");
    }
    if cfg!(target_feature = "avx2") {
        features.push("avx2");
    }
    if cfg!(target_feature = "fma") {
        features.push("fma");
    }
    if cfg!(target_feature = "f16c") {
        features.push("f16c");
    }
    if cfg!(target_feature = "avx512f") {
        features.push("avx512f");
    }
    if cfg!(target_feature = "neon") {
        features.push("neon");
    }
    features
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// Peak resident memory of this process (Linux), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time (user + system) this process has used so far, in seconds (Linux).
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks
    // of 1/100 s (USER_HZ on Linux).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Wall and CPU seconds of a timed section.
struct Stopwatch {
    wall: Instant,
    cpu: Option<f64>,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: process_cpu_seconds(),
        }
    }
    /// (wall seconds, CPU seconds)
    fn stop(&self) -> (f64, Option<f64>) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = match (self.cpu, process_cpu_seconds()) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        (wall, cpu)
    }
}

fn cpu_ratio(wall: f64, cpu: Option<f64>) -> Option<f64> {
    cpu.filter(|_| wall > 0.0).map(|c| c / wall)
}

/// `n` prompt tokens: real Scandinavian text, repeated as needed, so the
/// tokenizer's output is typical of what nordbrief reads.
fn prompt_tokens(model: &LoadedModel, text: &str, n: usize) -> Vec<u32> {
    let ids = model
        .tokenizer
        .encode(text, false)
        .map(|e| e.get_ids().to_vec())
        .unwrap_or_default();
    let ids = if ids.is_empty() { vec![0] } else { ids };
    ids.iter().cycle().take(n).copied().collect()
}

fn prefill(
    model: &mut LoadedModel,
    tokens: &[u32],
    batch: usize,
) -> candle_core::Result<candle_core::Tensor> {
    model.network.truncate_cache(0)?;
    let mut last = None;
    for piece in tokens.chunks(batch.max(1)) {
        last = Some(model.network.forward(piece)?);
    }
    Ok(last.expect("at least one token"))
}

fn argmax(logits: &candle_core::Tensor) -> candle_core::Result<u32> {
    logits.argmax(0)?.to_scalar::<u32>()
}

/// `config.decode_tokens` new tokens for each of `answers` sequences that
/// hold `context` (copied from sequence 0, as notes share their prompt's
/// prefix); returns (wall seconds, CPU seconds) of the decode alone.
fn decode(
    model: &mut LoadedModel,
    context: &[u32],
    config: &BenchConfig,
    answers: usize,
) -> candle_core::Result<(f64, Option<f64>)> {
    let first = prefill(model, context, config.prefill_batch)?;
    for index in 1..answers {
        model.network.copy_prefix(
            0,
            index,
            context.len(),
            context.len() + config.decode_tokens,
        )?;
    }
    let mut next: Vec<u32> = vec![argmax(&first)?; answers];
    let watch = Stopwatch::start();
    for _ in 0..config.decode_tokens {
        if answers == 1 {
            next[0] = argmax(&model.network.forward(&[next[0]])?)?;
        } else {
            let steps: Vec<(usize, u32)> = next.iter().copied().enumerate().collect();
            let rows = model.network.forward_step(&steps)?;
            for (row, token) in next.iter_mut().enumerate() {
                *token = argmax(&rows.get(row)?)?;
            }
        }
    }
    let timed = watch.stop();
    model.network.release_sequences();
    Ok(timed)
}

/// Time `model` on `text` (any document; it is tokenized and repeated).
pub fn run(
    model: &mut LoadedModel,
    text: &str,
    config: &BenchConfig,
    threads: usize,
) -> candle_core::Result<BenchReport> {
    let mut measurements = Vec::new();
    let runs = config.runs.max(1);
    // Warm-up: first calls allocate and repack weights.
    prefill(model, &prompt_tokens(model, text, 64), config.prefill_batch)?;

    for &n in &config.prefill_tokens {
        let tokens = prompt_tokens(model, text, n);
        let mut rates = Vec::new();
        let (mut wall, mut cpu) = (0.0, Some(0.0));
        for _ in 0..runs {
            let watch = Stopwatch::start();
            prefill(model, &tokens, config.prefill_batch)?;
            let (w, c) = watch.stop();
            rates.push(n as f64 / w);
            wall += w;
            cpu = cpu.zip(c).map(|(a, b)| a + b);
        }
        measurements.push(Measurement {
            test: format!("pp{n}"),
            tokens_per_second: median(rates.clone()),
            runs: rates,
            cpu_per_wall: cpu_ratio(wall, cpu),
        });
    }
    for &context in &config.decode_contexts {
        for &answers in &config.parallel {
            let answers = answers.max(1);
            let tokens = prompt_tokens(model, text, context.max(1));
            let mut rates = Vec::new();
            let (mut wall, mut cpu) = (0.0, Some(0.0));
            for _ in 0..runs {
                let (w, c) = decode(model, &tokens, config, answers)?;
                rates.push((config.decode_tokens * answers) as f64 / w);
                wall += w;
                cpu = cpu.zip(c).map(|(a, b)| a + b);
            }
            let together = if answers > 1 {
                format!("x{answers}")
            } else {
                String::new()
            };
            measurements.push(Measurement {
                test: format!("tg{}@{context}{together}", config.decode_tokens),
                tokens_per_second: median(rates.clone()),
                runs: rates,
                cpu_per_wall: cpu_ratio(wall, cpu),
            });
        }
    }
    model.network.truncate_cache(0)?;
    Ok(BenchReport {
        model: model.name.clone(),
        threads,
        load_seconds: model.load_seconds,
        measurements,
        peak_rss_bytes: peak_rss_bytes(),
        simd: compiled_simd(),
    })
}

impl BenchReport {
    pub fn to_table(&self) -> String {
        let mut t = format!(
            "model: {} · threads: {} · SIMD: {} · load: {:.2}s · peak RSS: {}\n\n| test | tok/s (median) | runs | CPU s per wall s |\n|---|---:|---|---:|\n",
            self.model,
            self.threads,
            if self.simd.is_empty() { "none".to_string() } else { self.simd.join("+") },
            self.load_seconds,
            self.peak_rss_bytes.map(|b| format!("{:.0} MB", b as f64 / 1e6)).unwrap_or_else(|| "?".into())
        );
        for m in &self.measurements {
            let runs: Vec<String> = m.runs.iter().map(|r| format!("{r:.1}")).collect();
            let cpu = m
                .cpu_per_wall
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "?".into());
            t.push_str(&format!(
                "| {} | {:.1} | {} | {cpu} |\n",
                m.test,
                m.tokens_per_second,
                runs.join(", ")
            ));
        }
        t
    }
}

/// Scandinavian text to time the model on, so the token mix is realistic:
/// the first document under `dir`, or a repeated Swedish sentence.
/// The embedding model timed on one document's paragraphs.
#[derive(Debug, Clone, Serialize)]
pub struct EmbedBench {
    pub paragraphs: usize,
    /// Tokens as fed: prefix, `<s>` and `</s>` included, after truncation.
    pub tokens: usize,
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub threads: usize,
    pub peak_rss_bytes: Option<u64>,
}

/// Embeds every paragraph of `document` as passages, once, timed.
pub fn embed_document(
    embedder: &crate::model::Embedder,
    document: &crate::ingest::Document,
    threads: usize,
) -> Result<EmbedBench, crate::model::EmbedError> {
    use crate::model::EmbedKind;
    let texts: Vec<&str> = document
        .paragraphs
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    let mut tokens = 0;
    for text in &texts {
        tokens += embedder.token_ids(text, EmbedKind::Passage)?.len();
    }
    let start = Instant::now();
    embedder.embed(&texts, EmbedKind::Passage)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(EmbedBench {
        paragraphs: texts.len(),
        tokens,
        seconds,
        tokens_per_second: tokens as f64 / seconds.max(1e-9),
        threads,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

pub fn sample_text(dir: &std::path::Path) -> String {
    crate::batch::collect_inputs(&[dir.to_path_buf()])
        .ok()
        .and_then(|paths| paths.first().and_then(|p| std::fs::read_to_string(p).ok()))
        .unwrap_or_else(|| {
            "Integrationspolitik har blivit en allt viktigare fråga i alla medlemsstater. "
                .repeat(50)
        })
}

/// The model calls of many briefs summed by stage, in the order stages
/// first appear: where an end-to-end run spent its time.
pub fn sum_stages<'a>(timings: impl IntoIterator<Item = &'a Timings>) -> Vec<StageTiming> {
    let mut stages: Vec<StageTiming> = Vec::new();
    for stage in timings.into_iter().flat_map(|t| &t.stages) {
        StageTiming::add_to(&mut stages, stage);
    }
    stages
}

/// Stage timings as a Markdown table.
pub fn stage_table(stages: &[StageTiming]) -> String {
    let mut t = String::from(
        "| stage | calls | prompt tokens read | reused | tokens written | prefill s | decode s |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in stages {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} |\n",
            s.stage,
            s.calls,
            s.prompt_tokens,
            s.reused_prompt_tokens,
            s.generated_tokens,
            s.prefill_seconds,
            s.decode_seconds
        ));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, calls: usize, read: usize, seconds: f64) -> StageTiming {
        StageTiming {
            stage: name.into(),
            calls,
            prompt_tokens: read,
            reused_prompt_tokens: 10,
            generated_tokens: 5,
            prefill_seconds: seconds,
            decode_seconds: 1.0,
        }
    }

    #[test]
    fn stage_table_sums_each_stage_over_briefs_in_first_seen_order() {
        let a = Timings {
            stages: vec![stage("notes", 3, 300, 2.0), stage("brief", 1, 100, 1.0)],
            ..Timings::default()
        };
        let b = Timings {
            stages: vec![stage("brief", 2, 50, 0.5)],
            ..Timings::default()
        };
        let table = stage_table(&sum_stages([&a, &b]));
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(
            rows,
            [
                "| notes | 3 | 300 | 10 | 5 | 2.0 | 1.0 |",
                "| brief | 3 | 150 | 20 | 10 | 1.5 | 2.0 |"
            ]
        );
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }

    #[test]
    fn cpu_time_grows_with_work_on_linux() {
        if cfg!(target_os = "linux") {
            let before = process_cpu_seconds().expect("/proc/self/stat");
            let mut x = 0u64;
            let start = Instant::now();
            while start.elapsed().as_millis() < 150 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            std::hint::black_box(x);
            let after = process_cpu_seconds().unwrap();
            assert!(after >= before, "{before} {after}");
            assert!(after - before < 10.0, "{before} {after}");
        }
    }

    #[test]
    fn cpu_ratio_needs_wall_time() {
        assert_eq!(cpu_ratio(0.0, Some(1.0)), None);
        assert_eq!(cpu_ratio(2.0, Some(3.0)), Some(1.5));
        assert_eq!(cpu_ratio(2.0, None), None);
    }

    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let rss = peak_rss_bytes().expect("VmHWM in /proc/self/status");
            assert!(rss > 1_000_000, "{rss}");
        }
    }
}
