//! Attention of one new token (decode) over the KV cache.
//!
//! Through candle's general matrix products each decode step packs the
//! cached keys into the gemm's own layout before using them: at 1,500 tokens
//! of context that cost ~13 ms a token (1.5B model) where reading the cache
//! once takes ~4 ms. Here each KV head reads its keys and values once, in
//! place, for all the query heads that share it, on its own thread.

use rayon::prelude::*;

pub use crate::blocks::MAX_GROUP;

/// Softmax(q·Kᵀ)·V for one token: `q` (n_head × head_dim, already scaled),
/// `k` and `v` the caches (n_kv_head × capacity × head_dim), of which the
/// first `keys` positions are used; query head i uses KV head
/// i / (n_head / n_kv_head). Returns n_head × head_dim values.
///
/// The caller checks [`crate::available`], that head_dim
/// is a multiple of 8 and that n_head / n_kv_head ≤ [`MAX_GROUP`].
pub fn one_token(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    n_kv_head: usize,
    head_dim: usize,
    capacity: usize,
    keys: usize,
) -> Vec<f32> {
    let group = q.len() / head_dim / n_kv_head;
    assert!(
        head_dim % 8 == 0 && group <= MAX_GROUP && keys <= capacity,
        "attention: head_dim {head_dim}, group {group}, keys {keys} of {capacity}"
    );
    assert!(k.len() >= n_kv_head * capacity * head_dim && v.len() >= k.len());
    let mut out = vec![0f32; q.len()];
    out.par_chunks_mut(group * head_dim)
        .zip(q.par_chunks(group * head_dim))
        .enumerate()
        .for_each(|(h, (out, q))| {
            let at = h * capacity * head_dim..(h * capacity + keys) * head_dim;
            let (k, v) = (&k[at.clone()], &v[at]);
            // SAFETY: the caller checked the CPU features; shapes checked above.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                crate::avx2::attention::head(q, k, v, head_dim, group, out)
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_values;

    /// Attention written out plainly, in f64.
    fn reference(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        n_kv_head: usize,
        head_dim: usize,
        capacity: usize,
        keys: usize,
    ) -> Vec<f32> {
        let n_head = q.len() / head_dim;
        let group = n_head / n_kv_head;
        let mut out = Vec::new();
        for i in 0..n_head {
            let h = i / group;
            let row = |cache: &[f32], j: usize| {
                let at = (h * capacity + j) * head_dim;
                cache[at..at + head_dim].to_vec()
            };
            let qi = &q[i * head_dim..(i + 1) * head_dim];
            let scores: Vec<f64> = (0..keys)
                .map(|j| {
                    qi.iter()
                        .zip(row(k, j))
                        .map(|(a, b)| *a as f64 * b as f64)
                        .sum()
                })
                .collect();
            let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let sum: f64 = weights.iter().sum();
            for d in 0..head_dim {
                let value: f64 = (0..keys).map(|j| weights[j] * row(v, j)[d] as f64).sum();
                out.push((value / sum) as f32);
            }
        }
        out
    }

    #[test]
    fn matches_plain_attention() {
        if !crate::available() {
            return;
        }
        // Groups of 6 and 7 (the 1.5B and 0.5B models), 1 and 8; one key,
        // less than a value block, more than two.
        for (n_kv_head, group, head_dim, keys) in [
            (2, 6, 128, 1),
            (2, 7, 64, 300),
            (1, 1, 8, 5),
            (3, 8, 32, 600),
        ] {
            let capacity = keys + 13;
            let n_head = n_kv_head * group;
            // Scaled up so that the softmax is far from uniform.
            let q: Vec<f32> = test_values(n_head * head_dim, 3)
                .iter()
                .map(|x| x * 2.0)
                .collect();
            let k = test_values(n_kv_head * capacity * head_dim, 5);
            let v = test_values(n_kv_head * capacity * head_dim, 7);
            let got = one_token(&q, &k, &v, n_kv_head, head_dim, capacity, keys);
            let expected = reference(&q, &k, &v, n_kv_head, head_dim, capacity, keys);
            assert_eq!(got.len(), expected.len());
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                assert!(
                    (g - e).abs() <= 1e-5,
                    "group {group} keys {keys} value {i}: {g} vs {e}"
                );
            }
        }
    }
}
