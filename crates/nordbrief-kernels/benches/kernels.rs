//! Quantized matrix products on real weights: candle's `QMatMul` (repacked
//! tiles where candle has them) against its compact `k_quants::matmul`, one
//! row (decode) and a batch of rows (prefill), and nordbrief's kernel for
//! the weight's type. `cargo bench --bench kernels`;
//! set RAYON_NUM_THREADS to pick threads. Needs the cached models.

use candle_core::quantized::{gguf_file, k_quants, GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use nordbrief_kernels::{as_blocks, kquants, q8_0};
use std::time::Instant;

fn load(path: &str, name: &str) -> Option<QTensor> {
    let mut file = std::fs::File::open(path).ok()?;
    let ct = gguf_file::Content::read(&mut file).ok()?;
    ct.tensor(&mut file, name, &Device::Cpu).ok()
}

fn time<F: FnMut()>(mut f: F, reps: usize) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() / reps as f64
}

fn compact<T: k_quants::GgmlType + Send + Sync>(w: &QTensor, m: usize, x: &[f32], dst: &mut [f32]) {
    let (n, k) = w.shape().dims2().unwrap();
    let data = w.data().unwrap();
    let blocks = unsafe {
        std::slice::from_raw_parts(
            data.as_ptr() as *const T,
            data.len() / std::mem::size_of::<T>(),
        )
    };
    k_quants::matmul((m, k, n), x, blocks, dst).unwrap();
}

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let big = format!("{home}/.cache/nordbrief/models/qwen2.5-coder-1.5b-instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
    let small = format!("{home}/.cache/nordbrief/models/qwen2.5-coder-0.5b-instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.requant-q8_0.gguf");
    for (path, name) in [
        (&big, "blk.0.ffn_up.weight"),
        (&big, "blk.0.ffn_down.weight"),
        (&small, "blk.0.ffn_up.weight"),
    ] {
        let Some(w) = load(path, name) else {
            eprintln!("{name} of {path} not available; skipping");
            continue;
        };
        let dtype = w.dtype();
        let (n, k) = w.shape().dims2().unwrap();
        let bytes = w.storage_size_in_bytes();
        let w = std::sync::Arc::new(w);
        let qmm = QMatMul::QTensor(w.clone());
        for m in [1usize, 256] {
            let x: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
                .collect();
            let xt = Tensor::from_vec(x.clone(), (1, m, k), &Device::Cpu).unwrap();
            let reps = if m == 1 { 200 } else { 4 };
            let t_q = time(
                || {
                    qmm.forward(&xt).unwrap();
                },
                reps,
            );
            let mut dst = vec![0f32; m * n];
            let t_c = time(
                || match dtype {
                    GgmlDType::Q4K => compact::<k_quants::BlockQ4K>(&w, m, &x, &mut dst),
                    GgmlDType::Q6K => compact::<k_quants::BlockQ6K>(&w, m, &x, &mut dst),
                    GgmlDType::Q8_0 => compact::<k_quants::BlockQ8_0>(&w, m, &x, &mut dst),
                    _ => {}
                },
                reps,
            );
            let data = w.data().unwrap();
            let t_own = time(
                || match dtype {
                    GgmlDType::Q4K => kquants::matmul(
                        as_blocks::<k_quants::BlockQ4K>(&data, n * k).unwrap(),
                        n,
                        k,
                        &x,
                        &mut dst,
                    )
                    .unwrap(),
                    GgmlDType::Q6K => kquants::matmul(
                        as_blocks::<k_quants::BlockQ6K>(&data, n * k).unwrap(),
                        n,
                        k,
                        &x,
                        &mut dst,
                    )
                    .unwrap(),
                    GgmlDType::Q8_0 => q8_0::matmul(
                        as_blocks::<k_quants::BlockQ8_0>(&data, n * k).unwrap(),
                        n,
                        k,
                        &x,
                        &mut dst,
                    )
                    .unwrap(),
                    _ => {}
                },
                reps,
            );
            let gb = |t: f64| bytes as f64 / t / 1e9;
            let gops = |t: f64| 2.0 * (m * n * k) as f64 / t / 1e9;
            println!(
                "[{}] {name:<22} {dtype:?} {n}x{k} m={m:<4} QMatMul {:>8.3} ms ({:>5.1} GB/s, {:>6.1} Gop/s) | compact {:>8.3} ms ({:>6.1} Gop/s) | nordbrief {:>8.3} ms ({:>6.1} Gop/s)",
                nordbrief_kernels::isa().name(),
                t_q * 1e3, gb(t_q), gops(t_q), t_c * 1e3, gops(t_c), t_own * 1e3, gops(t_own)
            );
        }
    }
}
