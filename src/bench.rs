//! Speed and memory of a model on this machine: load time, prefill and
//! decode throughput at given context lengths, peak resident memory. Each
//! figure is the median of several runs after a warm-up.

use serde::Serialize;
use std::time::Instant;

use crate::model::load::LoadedModel;

#[derive(Debug, Clone, Serialize)]
pub struct BenchConfig {
    /// Prompt lengths to time prefill at.
    pub prefill_tokens: Vec<usize>,
    /// New tokens to time decode over.
    pub decode_tokens: usize,
    /// Context lengths (tokens already cached) to time decode at.
    pub decode_contexts: Vec<usize>,
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
            prefill_batch: crate::generate::GenerationSettings::default().prefill_batch,
            runs: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// e.g. "pp512", "tg128@4096".
    pub test: String,
    pub tokens_per_second: f64,
    /// Every run, for judging the spread.
    pub runs: Vec<f64>,
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

/// `n` prompt tokens: real Scandinavian text, repeated as needed, so the
/// tokenizer's output is typical of what nordbrief reads.
fn prompt_tokens(model: &LoadedModel, text: &str, n: usize) -> Vec<u32> {
    let ids = model.tokenizer.encode(text, false).map(|e| e.get_ids().to_vec()).unwrap_or_default();
    let ids = if ids.is_empty() { vec![0] } else { ids };
    ids.iter().cycle().take(n).copied().collect()
}

fn prefill(model: &mut LoadedModel, tokens: &[u32], batch: usize) -> candle_core::Result<candle_core::Tensor> {
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

/// Time `model` on `text` (any document; it is tokenized and repeated).
pub fn run(model: &mut LoadedModel, text: &str, config: &BenchConfig, threads: usize) -> candle_core::Result<BenchReport> {
    let mut measurements = Vec::new();
    let runs = config.runs.max(1);
    // Warm-up: first calls allocate and repack weights.
    prefill(model, &prompt_tokens(model, text, 64), config.prefill_batch)?;

    for &n in &config.prefill_tokens {
        let tokens = prompt_tokens(model, text, n);
        let mut rates = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            prefill(model, &tokens, config.prefill_batch)?;
            rates.push(n as f64 / start.elapsed().as_secs_f64());
        }
        measurements.push(Measurement { test: format!("pp{n}"), tokens_per_second: median(rates.clone()), runs: rates });
    }
    for &context in &config.decode_contexts {
        let tokens = prompt_tokens(model, text, context.max(1));
        let mut rates = Vec::new();
        for _ in 0..runs {
            let mut logits = prefill(model, &tokens, config.prefill_batch)?;
            let start = Instant::now();
            for _ in 0..config.decode_tokens {
                let next = argmax(&logits)?;
                logits = model.network.forward(&[next])?;
            }
            rates.push(config.decode_tokens as f64 / start.elapsed().as_secs_f64());
        }
        measurements.push(Measurement {
            test: format!("tg{}@{}", config.decode_tokens, context),
            tokens_per_second: median(rates.clone()),
            runs: rates,
        });
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
            "model: {} · threads: {} · SIMD: {} · load: {:.2}s · peak RSS: {}\n\n| test | tok/s (median) | runs |\n|---|---:|---|\n",
            self.model,
            self.threads,
            if self.simd.is_empty() { "none".to_string() } else { self.simd.join("+") },
            self.load_seconds,
            self.peak_rss_bytes.map(|b| format!("{:.0} MB", b as f64 / 1e6)).unwrap_or_else(|| "?".into())
        );
        for m in &self.measurements {
            let runs: Vec<String> = m.runs.iter().map(|r| format!("{r:.1}")).collect();
            t.push_str(&format!("| {} | {:.1} | {} |\n", m.test, m.tokens_per_second, runs.join(", ")));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }

    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let rss = peak_rss_bytes().expect("VmHWM in /proc/self/status");
            assert!(rss > 1_000_000, "{rss}");
        }
    }
}
