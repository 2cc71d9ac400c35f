//! Q4_K and Q6_K weights times activation rows, one (decode) or many
//! (prefill), over the file's compact blocks.
//!
//! candle's `QMatMul` repacks K-quant weights into tiles for batches of rows
//! and then keeps both copies (the tiles are a third larger than Q4_K blocks
//! and half again larger than Q6_K ones). This kernel reads the compact
//! blocks directly, so the file's blocks stay the only copy of the weights;
//! it is the activations, small and quantized afresh for every product
//! anyway, that are laid out for it.
//!
//! AVX2 without VNNI multiplies bytes with `maddubs` (pairs of u8 × i8 into
//! i16) and then needs a `madd` (pairs of i16 × scale into i32); a
//! straightforward kernel spends one of each per 32 products. Here four
//! activation rows are interleaved four values at a time, so one register
//! of weight values, shuffled, meets four rows at once, and the i16 sums of
//! four (Q4_K) or two (Q6_K) `maddubs` share one `madd`: 5 or 6 multiplies
//! per 128 products instead of 8 or 12. Integer sums are exact, so each
//! block's integer dot product is the one candle computes; only the order
//! of the float sums over blocks differs from candle's `vec_dot` (tested to
//! a tight bound).
//!
//! A single activation row (decode) has nothing to interleave; it goes
//! through a plain one-row dot product per weight row that does less per
//! block than candle's: half-precision scales converted with F16C, Q6_K's
//! −32 offset taken from the activations' block sums by one `madd` instead
//! of a `maddubs` and a subtraction per 32 values, Q4_K's scales unpacked
//! in registers. Its integer sums are also exact. Decode reads every
//! weight once per token, so it also asks for weights a few KB ahead of use
//! (see `PREFETCH_BYTES`), and products that share an input (Q, K and V;
//! gate and up) run in one pass ([`one_row_products`]).

use candle_core::quantized::k_quants::{BlockQ8K, GgmlType, QK_K};
use candle_core::Result;

use crate::blocks::{Group, GROUP_ROWS};
pub use crate::blocks::{KQuant, KQuantRows};

/// Weight rows per work unit of a one-row product.
const ROW_UNIT_COLUMNS: usize = 64;
/// Weight rows per work unit handed to a thread.
const UNIT_COLUMNS: usize = 16;
/// Bytes of interleaved activations a unit may hold, so that they stay in
/// the core's L2 cache (512 KB here, a quarter of it) while its weight
/// rows stream through.
const UNIT_ACTIVATION_BYTES: usize = 128 * 1024;

/// `dst` (m, n) = `lhs` (m, k) × `weights` (n, k)ᵀ, with m = lhs.len() / k.
/// The activations are quantized to Q8_K per row, as candle does.
pub fn matmul<W: KQuant>(
    weights: &[W],
    n: usize,
    k: usize,
    lhs: &[f32],
    dst: &mut [f32],
) -> Result<()> {
    if k == 0 || k % QK_K != 0 || weights.len() != n * k / QK_K || lhs.len() % k != 0 {
        candle_core::bail!(
            "{:?} matmul: bad shapes n={n} k={k} lhs={}",
            W::DTYPE,
            lhs.len()
        );
    }
    let m = lhs.len() / k;
    if dst.len() != m * n {
        candle_core::bail!(
            "{:?} matmul: dst holds {} values, needs {}",
            W::DTYPE,
            dst.len(),
            m * n
        );
    }
    if !crate::available() {
        candle_core::bail!("{:?} matmul needs AVX2, FMA and F16C", W::DTYPE);
    }
    if m == 1 {
        return one_row_products(k, lhs, &mut [(W::rows(weights), dst)]);
    }
    use rayon::prelude::*;
    let kb = k / QK_K;
    let mut lhs_q = vec![BlockQ8K::zeros(); m * kb];
    lhs.par_chunks_exact(k)
        .zip(lhs_q.par_chunks_exact_mut(kb))
        .for_each(|(row, blocks)| BlockQ8K::from_float(row, blocks));
    let mut groups = vec![Group::ZERO; m.div_ceil(GROUP_ROWS) * kb];
    groups
        .par_chunks_exact_mut(kb)
        .enumerate()
        .for_each(|(g, blocks)| {
            let rows: Vec<&[BlockQ8K]> = lhs_q
                .chunks_exact(kb)
                .skip(g * GROUP_ROWS)
                .take(GROUP_ROWS)
                .collect();
            for (b, block) in blocks.iter_mut().enumerate() {
                *block = Group::new(&rows, b, W::DTYPE);
            }
        });
    let groups: &[Group] = &groups;
    let group_bytes = kb * std::mem::size_of::<Group>();
    let unit_groups = (UNIT_ACTIVATION_BYTES / group_bytes).clamp(2, 16);
    let unit_rows = unit_groups * GROUP_ROWS;
    crate::for_each_unit(m, n, unit_rows, UNIT_COLUMNS, dst, |rows, columns, dst| {
        // SAFETY: AVX2/FMA/F16C checked above; shapes checked above; `rows`
        // starts at a group boundary; `dst` is this unit's rows × columns
        // and is written by this unit only.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            crate::avx2::kquants::block(weights, groups, kb, rows, columns, dst, n)
        };
    });
    Ok(())
}

/// One activation row `lhs` (k) times each of several weights, each
/// product into its own `dst` (one value per weight row). The row is
/// quantized once and all products run in one parallel pass: decode's
/// Q, K and V (or gate and up) share an input, and each pass over rayon's
/// threads costs a wake-up that small products notice.
pub fn one_row_products(
    k: usize,
    lhs: &[f32],
    products: &mut [(KQuantRows, &mut [f32])],
) -> Result<()> {
    if k == 0 || k % QK_K != 0 || lhs.len() != k {
        candle_core::bail!(
            "one-row K-quant products: bad shapes k={k} lhs={}",
            lhs.len()
        );
    }
    let kb = k / QK_K;
    for (weights, dst) in products.iter() {
        if weights.blocks() != dst.len() * kb {
            candle_core::bail!(
                "one-row K-quant products: {} blocks for {} rows of {k}",
                weights.blocks(),
                dst.len()
            );
        }
    }
    if !crate::available() {
        candle_core::bail!("K-quant products need AVX2, FMA and F16C");
    }
    let mut lhs_q = vec![BlockQ8K::zeros(); kb];
    BlockQ8K::from_float(lhs, &mut lhs_q);
    // Units of ROW_UNIT_COLUMNS rows of one weight each, over all weights.
    let units: Vec<(usize, std::ops::Range<usize>)> = products
        .iter()
        .enumerate()
        .flat_map(|(p, (_, dst))| {
            (0..dst.len())
                .step_by(ROW_UNIT_COLUMNS)
                .map(move |start| (p, start..dst.len().min(start + ROW_UNIT_COLUMNS)))
        })
        .collect();
    let outputs: Vec<(KQuantRows, usize)> = products
        .iter_mut()
        .map(|(weights, dst)| (*weights, dst.as_mut_ptr() as usize))
        .collect();
    use rayon::prelude::*;
    units.into_par_iter().for_each(|(p, columns)| {
        let (weights, dst) = outputs[p];
        // SAFETY: CPU features and shapes checked above; each unit writes
        // only its own rows of its own product's `dst`.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            crate::avx2::kquants::one_row(weights, &lhs_q, kb, columns, dst as *mut f32)
        };
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K};
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    use crate::test_values as values;

    /// candle's one-row dot products of the same blocks, row by row.
    fn vec_dot_reference<W: KQuant>(blocks: &[W], n: usize, k: usize, x: &[f32]) -> Vec<f32> {
        let kb = k / QK_K;
        let mut expected = Vec::new();
        for row in x.chunks_exact(k) {
            let mut xq = vec![BlockQ8K::zeros(); kb];
            BlockQ8K::from_float(row, &mut xq);
            for c in 0..n {
                expected.push(W::vec_dot(k, &blocks[c * kb..(c + 1) * kb], &xq));
            }
        }
        expected
    }

    /// The kernel against candle's one-row dot product. Each block's
    /// integer sum is the same; only the float sums over blocks run in
    /// another order, so values agree to a few units in the last place of
    /// the largest partial sum, while a wrong lane, row or offset moves them
    /// by whole units.
    fn matches_vec_dot<W: KQuant>(
        dtype: GgmlDType,
        weights: &[f32],
        x: &[f32],
        n: usize,
        k: usize,
    ) {
        let w = Tensor::from_vec(weights.to_vec(), (n, k), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&w, dtype).unwrap();
        let data = q.data().unwrap();
        let blocks = crate::as_blocks::<W>(&data, n * k).unwrap();
        let expected = vec_dot_reference(blocks, n, k, x);
        let mut got = vec![0f32; expected.len()];
        matmul(blocks, n, k, x, &mut got).unwrap();
        let scale = expected.iter().fold(1f32, |a, v| a.max(v.abs()));
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(
                (g - e).abs() <= 1e-5 * scale,
                "{dtype:?} n={n} k={k} value {i}: {g} vs {e}"
            );
        }
    }

    fn matches_vec_dot_on_shapes<W: KQuant>(dtype: GgmlDType) {
        // Rows that fill groups and tiles, and ones that leave them partial;
        // one row (decode) with several work units.
        for (m, n, k) in [
            (1, 3, 256),
            (1, 150, 1536),
            (1, 9, 2816),
            (5, 17, 512),
            (70, 33, 256),
            (9, 40, 1536),
            (13, 8, 2816),
        ] {
            matches_vec_dot::<W>(dtype, &values(n * k, 7), &values(m * k, 11), n, k);
        }
    }

    #[test]
    fn q4k_matches_candle_vec_dot() {
        if crate::available() {
            matches_vec_dot_on_shapes::<BlockQ4K>(GgmlDType::Q4K);
        }
    }

    #[test]
    fn q6k_matches_candle_vec_dot() {
        if crate::available() {
            matches_vec_dot_on_shapes::<BlockQ6K>(GgmlDType::Q6K);
        }
    }

    /// The largest products the 16-bit sums meet: weights that quantize to
    /// their top value (15 for Q4_K, 63 for Q6_K) in all but the first place
    /// of each sub-block, against activations of −128 in every place.
    #[test]
    fn extreme_values_do_not_overflow_the_sums() {
        if !crate::available() {
            return;
        }
        for m in [1, 6] {
            extreme_values(m);
        }
    }

    fn extreme_values(m: usize) {
        let (n, k) = (4, 512);
        let x = vec![-1.0f32; m * k];
        // Q4_K: the sub-block's minimum first, every other value at the top.
        let q4k: Vec<f32> = (0..n * k)
            .map(|i| if i % 32 == 0 { -1.0 } else { 0.99 })
            .collect();
        matches_vec_dot::<BlockQ4K>(GgmlDType::Q4K, &q4k, &x, n, k);
        // Q6_K: the largest magnitude (quantized to −32) first, the rest of
        // the other sign quantize to +31.
        let q6k: Vec<f32> = (0..n * k)
            .map(|i| if i % 16 == 0 { 1.0 } else { -0.99 })
            .collect();
        matches_vec_dot::<BlockQ6K>(GgmlDType::Q6K, &q6k, &x, n, k);
    }

    #[test]
    fn rejects_mismatched_shapes() {
        let q = QTensor::quantize(
            &Tensor::zeros((4, 256), candle_core::DType::F32, &Device::Cpu).unwrap(),
            GgmlDType::Q4K,
        )
        .unwrap();
        let data = q.data().unwrap();
        let blocks = crate::as_blocks::<BlockQ4K>(&data, 4 * 256).unwrap();
        let mut dst = vec![0f32; 4];
        assert!(matmul(blocks, 4, 256, &[0.0; 257], &mut dst).is_err());
        assert!(matmul(blocks, 4, 256, &[0.0; 512], &mut dst).is_err());
        // One row: the output must have one value per weight row.
        let mut short = vec![0f32; 3];
        let mut rows = [(KQuantRows::Q4K(blocks), short.as_mut_slice())];
        assert!(one_row_products(256, &[0.0; 256], &mut rows).is_err());
        let mut rows = [(KQuantRows::Q4K(blocks), dst.as_mut_slice())];
        assert!(one_row_products(256, &[0.0; 255], &mut rows).is_err());
        assert!(one_row_products(256, &[0.0; 256], &mut rows).is_ok());
    }
}
