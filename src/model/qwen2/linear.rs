//! Quantized linear layers with the kernel that is fastest here for each
//! weight type and batch size.
//!
//! candle's `QMatMul` repacks Q4_K and Q6_K weights into tiles with f32
//! scales, then holds both copies (1.1 GB more for the 1.5B model) and runs
//! them on its barrier pool, whose threads spin and halve decode on a busy
//! machine. So K-quant weights are never repacked: [`super::kquants::matmul`]
//! reads the compact blocks for one row (decode) and for batches of rows
//! (prefill, interleaving the activations instead), on rayon, and gives
//! the same integer sums per block as candle (the float sums over blocks
//! differ only in order).
//!
//! candle has no AVX2 kernel for Q8_0 weights beyond a one-block-at-a-time
//! dot product (~7 Gop/s per core here), so Q8_0 products use
//! [`q8_0::matmul`], a register-tiled kernel over the same blocks that gives
//! bit-identical results.

use super::kquants::KQuantRows;
use candle_core::quantized::k_quants::{self, GgmlType};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Module, Result, Tensor};
use std::sync::Arc;

pub struct QLinear {
    weight: Arc<QTensor>,
    matmul: QMatMul,
}

impl QLinear {
    pub fn new(weight: Arc<QTensor>) -> Self {
        Self {
            matmul: QMatMul::QTensor(weight.clone()),
            weight,
        }
    }

    /// `x` (…, k) times the weight (n, k) transposed: (…, n).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (n, k) = self.weight.shape().dims2()?;
        let rows = x.elem_count() / k.max(1);
        let dtype = self.weight.dtype();
        let own_kernel = matches!(dtype, GgmlDType::Q8_0 | GgmlDType::Q4K | GgmlDType::Q6K);
        if !(own_kernel && kernels_available()) {
            return self.matmul.forward(x);
        }
        let lhs = x.flatten_all()?.to_vec1::<f32>()?;
        let mut dst = vec![0f32; rows * n];
        let data = self.weight.data()?;
        match dtype {
            GgmlDType::Q8_0 => q8_0::matmul(
                as_blocks::<k_quants::BlockQ8_0>(&data, n * k)?,
                n,
                k,
                &lhs,
                &mut dst,
            )?,
            GgmlDType::Q4K => super::kquants::matmul(
                as_blocks::<k_quants::BlockQ4K>(&data, n * k)?,
                n,
                k,
                &lhs,
                &mut dst,
            )?,
            _ => super::kquants::matmul(
                as_blocks::<k_quants::BlockQ6K>(&data, n * k)?,
                n,
                k,
                &lhs,
                &mut dst,
            )?,
        }
        output(dst, x, n)
    }

    /// Several weights times one input, as `forward` each. One row
    /// (decode) of K-quant weights is quantized once and multiplied by all
    /// of them in one parallel pass (see [`super::kquants::one_row_products`]).
    pub fn forward_shared<const N: usize>(
        linears: [&QLinear; N],
        x: &Tensor,
    ) -> Result<[Tensor; N]> {
        let k = x.dim(candle_core::D::Minus1)?;
        let shared = x.elem_count() == k
            && kernels_available()
            && linears.iter().all(|l| {
                matches!(l.weight.dtype(), GgmlDType::Q4K | GgmlDType::Q6K)
                    && l.weight
                        .shape()
                        .dims2()
                        .map(|(_, wk)| wk == k)
                        .unwrap_or(false)
            });
        if !shared {
            let mut outputs = Vec::with_capacity(N);
            for linear in linears {
                outputs.push(linear.forward(x)?);
            }
            return Ok(outputs
                .try_into()
                .unwrap_or_else(|_| unreachable!("N outputs")));
        }
        let lhs = x.flatten_all()?.to_vec1::<f32>()?;
        let data = linears
            .iter()
            .map(|l| l.weight.data())
            .collect::<Result<Vec<_>>>()?;
        let mut dsts: Vec<Vec<f32>> = linears
            .iter()
            .map(|l| vec![0f32; l.weight.shape().dims()[0]])
            .collect();
        let mut products = Vec::with_capacity(N);
        for ((linear, data), dst) in linears.iter().zip(&data).zip(dsts.iter_mut()) {
            let elements = dst.len() * k;
            let rows = match linear.weight.dtype() {
                GgmlDType::Q4K => KQuantRows::Q4K(as_blocks(data, elements)?),
                _ => KQuantRows::Q6K(as_blocks(data, elements)?),
            };
            products.push((rows, dst.as_mut_slice()));
        }
        super::kquants::one_row_products(k, &lhs, &mut products)?;
        let mut outputs = Vec::with_capacity(N);
        for dst in dsts {
            let n = dst.len();
            outputs.push(output(dst, x, n)?);
        }
        Ok(outputs
            .try_into()
            .unwrap_or_else(|_| unreachable!("N outputs")))
    }
}

/// `values` as the product of `x` (…, k) with a weight of `n` rows: (…, n).
fn output(values: Vec<f32>, x: &Tensor, n: usize) -> Result<Tensor> {
    let mut shape = x.dims().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = n;
    }
    Tensor::from_vec(values, shape, x.device())
}

/// Whether this CPU runs nordbrief's kernels (AVX2, FMA and F16C, as
/// every x86-64 CPU since 2013 does); without them candle's own kernels run.
pub fn kernels_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The weight's bytes as its blocks, checked against the element count.
pub(crate) fn as_blocks<T: GgmlType>(data: &[u8], elements: usize) -> Result<&[T]> {
    let count = elements / T::BLCK_SIZE;
    if data.len() != count * std::mem::size_of::<T>()
        || (data.as_ptr() as usize) % std::mem::align_of::<T>() != 0
    {
        candle_core::bail!(
            "quantized weight of {} bytes does not hold {count} {:?} blocks",
            data.len(),
            T::DTYPE
        );
    }
    // SAFETY: length and alignment are checked above; the blocks are plain
    // old data that candle itself reinterprets the same way.
    Ok(unsafe { std::slice::from_raw_parts(data.as_ptr() as *const T, count) })
}

/// Deterministic values in [-1, 1] for the kernels' tests.
#[cfg(test)]
pub(crate) fn test_values(count: usize, seed: u32) -> Vec<f32> {
    (0..count as u32)
        .map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Helpers the AVX2 kernels share.
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd {
    use std::arch::x86_64::*;

    /// An IEEE half-precision value as f32 (exact).
    #[inline]
    #[target_feature(enable = "f16c")]
    pub(crate) unsafe fn f16_to_f32(h: u16) -> f32 {
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h as i32)))
    }

    /// How far ahead of the weights in hand a one-row product asks for
    /// more: decode reads every weight once, and the hardware prefetcher
    /// alone left K-quant decode at ~70% of the memory bandwidth here;
    /// asking 4–8 KB ahead brought it to ~90% (1–2 KB were slower). Q8_0
    /// decode, with shorter rows read four at a time, gained more at 8 KB.
    pub(crate) const PREFETCH_BYTES: usize = 8192;

    /// Asks for `lines` cache lines from `PREFETCH_BYTES` past `at`. A
    /// prefetch never faults, so it may point past the weights' end.
    #[inline(always)]
    pub(crate) fn prefetch_ahead(at: *const u8, lines: usize) {
        let ahead = at.wrapping_add(PREFETCH_BYTES) as *const i8;
        for line in 0..lines {
            // SAFETY: prefetching is a hint that reads nothing and cannot fault.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64 * line)) };
        }
    }

    /// Horizontal sum in the order candle's `hsum_float_8` uses, so
    /// results match its dot product bit for bit.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn hsum(x: __m256) -> f32 {
        let res = _mm256_extractf128_ps(x, 1);
        let res = _mm_add_ps(res, _mm256_castps256_ps128(x));
        let res = _mm_add_ps(res, _mm_movehl_ps(res, res));
        let res = _mm_add_ss(res, _mm_movehdup_ps(res));
        _mm_cvtss_f32(res)
    }
}

/// Runs `unit(rows, columns, dst)` over an (m × n) product in units of at
/// most `unit_rows` × `unit_columns`, spread over rayon's threads rather
/// than candle's barrier pool: on a busy machine the pool's caller spins
/// while a descheduled worker holds its share, which measured ten times
/// slower decode with two threads than with one, whereas rayon's waiting
/// thread sleeps and the caller takes over shares not yet started. `dst`
/// is the whole output's first value; each unit writes only its own rows ×
/// columns. The row units of one column unit are adjacent, so a thread
/// reads those weight rows from memory once and the activations, which are
/// smaller, from cache.
pub(crate) fn for_each_unit(
    m: usize,
    n: usize,
    unit_rows: usize,
    unit_columns: usize,
    dst: &mut [f32],
    unit: impl Fn(std::ops::Range<usize>, std::ops::Range<usize>, *mut f32) + Sync,
) {
    use rayon::prelude::*;
    assert_eq!(dst.len(), m * n, "output of {m} × {n}");
    let row_units = m.div_ceil(unit_rows);
    let column_units = n.div_ceil(unit_columns);
    let dst_ptr = dst.as_mut_ptr() as usize;
    (0..row_units * column_units)
        .into_par_iter()
        .for_each(|index| {
            let (column_unit, row_unit) = (index / row_units, index % row_units);
            let rows = row_unit * unit_rows..m.min((row_unit + 1) * unit_rows);
            let columns = column_unit * unit_columns..n.min((column_unit + 1) * unit_columns);
            unit(rows, columns, dst_ptr as *mut f32);
        });
}

/// Q8_0 weights times f32 activations (quantized to Q8_0 per row, as candle
/// does), tiled so that each loaded block serves several rows and columns.
pub mod q8_0 {
    use candle_core::quantized::k_quants::{BlockQ8_0, GgmlType, QK8_0};
    use candle_core::Result;

    /// Weight rows per work unit handed to a thread.
    const UNIT_COLUMNS: usize = 32;
    /// Activation rows per work unit.
    const UNIT_ROWS: usize = 64;

    /// `dst` (m, n) = `lhs` (m, k) × `weights` (n, k)ᵀ, with m = lhs.len() / k.
    pub fn matmul(
        weights: &[BlockQ8_0],
        n: usize,
        k: usize,
        lhs: &[f32],
        dst: &mut [f32],
    ) -> Result<()> {
        if k == 0 || k % QK8_0 != 0 || weights.len() != n * k / QK8_0 || lhs.len() % k != 0 {
            candle_core::bail!("q8_0 matmul: bad shapes n={n} k={k} lhs={}", lhs.len());
        }
        let m = lhs.len() / k;
        if dst.len() != m * n {
            candle_core::bail!(
                "q8_0 matmul: dst holds {} values, needs {}",
                dst.len(),
                m * n
            );
        }
        if !super::kernels_available() {
            candle_core::bail!("q8_0 matmul needs AVX2 and FMA");
        }
        let kb = k / QK8_0;
        let mut lhs_q = vec![BlockQ8_0::zeros(); m * kb];
        for (row, blocks) in lhs.chunks_exact(k).zip(lhs_q.chunks_exact_mut(kb)) {
            BlockQ8_0::from_float(row, blocks);
        }
        let lhs_q: &[BlockQ8_0] = &lhs_q;
        super::for_each_unit(m, n, UNIT_ROWS, UNIT_COLUMNS, dst, |rows, columns, dst| {
            // SAFETY: AVX2/FMA checked above; the unit's rows × columns
            // of dst are written by this unit only.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                avx2::block(weights, lhs_q, kb, rows, columns, dst, n)
            };
        });
        Ok(())
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use super::super::simd::{f16_to_f32, hsum, prefetch_ahead};
        use super::BlockQ8_0;
        use std::arch::x86_64::*;
        use std::ops::Range;

        /// Same memory layout as candle's `BlockQ8_0` (repr(C), 34 bytes),
        /// whose fields are private to candle.
        #[repr(C)]
        struct Block {
            d: u16,
            qs: [i8; 32],
        }
        const _: () = assert!(std::mem::size_of::<Block>() == std::mem::size_of::<BlockQ8_0>());

        /// `RM` activation rows × `RN` weight rows, accumulators in registers.
        #[target_feature(enable = "avx2,fma,f16c")]
        unsafe fn tile<const RM: usize, const RN: usize>(
            w: *const Block,
            a: *const Block,
            kb: usize,
            dst: *mut f32,
            dst_stride: usize,
        ) {
            let ones = _mm256_set1_epi16(1);
            let mut acc = [[_mm256_setzero_ps(); RN]; RM];
            for b in 0..kb {
                let mut wq = [_mm256_setzero_si256(); RN];
                let mut wd = [0f32; RN];
                for j in 0..RN {
                    if RM == 1 && b % 2 == 0 {
                        // One row (decode) streams the weights: see
                        // `PREFETCH_BYTES`. Two blocks are 68 bytes.
                        prefetch_ahead(w.add(j * kb + b) as *const u8, 2);
                    }
                    let block = &*w.add(j * kb + b);
                    wq[j] = _mm256_loadu_si256(block.qs.as_ptr() as *const __m256i);
                    wd[j] = f16_to_f32(block.d);
                }
                // Four rows' scales converted at once and multiplied by
                // each weight row's scale in one vector product (the
                // products are the same f32 values as one at a time).
                let mut scales = [[0f32; 4]; RN];
                if RM == 4 {
                    let ds = [0, 1, 2, 3].map(|i| (*a.add(i * kb + b)).d as u64);
                    let packed = ds[0] | ds[1] << 16 | ds[2] << 32 | ds[3] << 48;
                    let da = _mm_cvtph_ps(_mm_set_epi64x(0, packed as i64));
                    for j in 0..RN {
                        _mm_storeu_ps(scales[j].as_mut_ptr(), _mm_mul_ps(da, _mm_set1_ps(wd[j])));
                    }
                }
                for (i, acc_row) in acc.iter_mut().enumerate() {
                    let block = &*a.add(i * kb + b);
                    let aq = _mm256_loadu_si256(block.qs.as_ptr() as *const __m256i);
                    let ad = if RM == 4 { 0.0 } else { f16_to_f32(block.d) };
                    for j in 0..RN {
                        // |w| · sign(a, w): maddubs needs one unsigned operand.
                        let abs_w = _mm256_sign_epi8(wq[j], wq[j]);
                        let signed_a = _mm256_sign_epi8(aq, wq[j]);
                        let pairs = _mm256_maddubs_epi16(abs_w, signed_a);
                        let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, pairs));
                        let scale = if RM == 4 { scales[j][i] } else { wd[j] * ad };
                        acc_row[j] = _mm256_fmadd_ps(_mm256_set1_ps(scale), sums, acc_row[j]);
                    }
                }
            }
            for (i, acc_row) in acc.iter().enumerate() {
                for (j, &value) in acc_row.iter().enumerate() {
                    *dst.add(i * dst_stride + j) = hsum(value);
                }
            }
        }

        /// dst[rows × columns] of the product, in tiles.
        #[target_feature(enable = "avx2,fma,f16c")]
        pub(super) unsafe fn block(
            weights: &[BlockQ8_0],
            lhs: &[BlockQ8_0],
            kb: usize,
            rows: Range<usize>,
            columns: Range<usize>,
            dst: *mut f32,
            n: usize,
        ) {
            let w = weights.as_ptr() as *const Block;
            let a = lhs.as_ptr() as *const Block;
            // One activation row (decode) is bound by reading weights: more
            // weight rows per tile; many rows reuse each weight block more.
            let (rm_max, rn_max) = if rows.len() == 1 { (1, 4) } else { (4, 2) };
            let mut j = columns.start;
            while j < columns.end {
                let rn = rn_max.min(columns.end - j);
                let mut i = rows.start;
                while i < rows.end {
                    let rm = rm_max.min(rows.end - i);
                    let (wp, ap, dp) = (w.add(j * kb), a.add(i * kb), dst.add(i * n + j));
                    match (rm, rn) {
                        (4, 2) => tile::<4, 2>(wp, ap, kb, dp, n),
                        (3, 2) => tile::<3, 2>(wp, ap, kb, dp, n),
                        (2, 2) => tile::<2, 2>(wp, ap, kb, dp, n),
                        (1, 2) => tile::<1, 2>(wp, ap, kb, dp, n),
                        (4, 1) => tile::<4, 1>(wp, ap, kb, dp, n),
                        (3, 1) => tile::<3, 1>(wp, ap, kb, dp, n),
                        (2, 1) => tile::<2, 1>(wp, ap, kb, dp, n),
                        (1, 4) => tile::<1, 4>(wp, ap, kb, dp, n),
                        (1, 3) => tile::<1, 3>(wp, ap, kb, dp, n),
                        _ => tile::<1, 1>(wp, ap, kb, dp, n),
                    }
                    i += rm;
                }
                j += rn;
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
        use candle_core::{Device, Module, Tensor};

        use super::super::test_values as values;

        /// Against candle's own Q8_0 product, for shapes that leave partial
        /// tiles and units on both sides.
        #[test]
        fn matches_candle_bit_for_bit() {
            if !super::super::kernels_available() {
                return;
            }
            for (m, n, k) in [
                (1, 37, 64),
                (5, 37, 96),
                (70, 9, 32),
                (1, 130, 896),
                (67, 70, 896),
            ] {
                let w = Tensor::from_vec(values(n * k, 7), (n, k), &Device::Cpu).unwrap();
                let q = QTensor::quantize(&w, GgmlDType::Q8_0).unwrap();
                let x = values(m * k, 11);
                let expected =
                    QMatMul::from_qtensor(QTensor::quantize(&w, GgmlDType::Q8_0).unwrap())
                        .unwrap()
                        .forward(&Tensor::from_vec(x.clone(), (m, k), &Device::Cpu).unwrap())
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1::<f32>()
                        .unwrap();
                let data = q.data().unwrap();
                let blocks = super::super::as_blocks::<BlockQ8_0>(&data, n * k).unwrap();
                let mut got = vec![0f32; m * n];
                matmul(blocks, n, k, &x, &mut got).unwrap();
                assert_eq!(got, expected, "m={m} n={n} k={k}");
            }
        }

        #[test]
        fn rejects_mismatched_shapes() {
            let q = QTensor::quantize(
                &Tensor::zeros((4, 64), candle_core::DType::F32, &Device::Cpu).unwrap(),
                GgmlDType::Q8_0,
            )
            .unwrap();
            let data = q.data().unwrap();
            let blocks = super::super::as_blocks::<BlockQ8_0>(&data, 4 * 64).unwrap();
            let mut dst = vec![0f32; 4];
            assert!(matmul(blocks, 4, 64, &[0.0; 65], &mut dst).is_err());
            assert!(matmul(blocks, 4, 64, &[0.0; 128], &mut dst).is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn linear(n: usize, k: usize, dtype: GgmlDType, seed: u32) -> QLinear {
        let w = Tensor::from_vec(test_values(n * k, seed), (n, k), &Device::Cpu).unwrap();
        QLinear::new(Arc::new(QTensor::quantize(&w, dtype).unwrap()))
    }

    /// Sharing one input among several weights gives each weight's own
    /// product exactly, for one row (the shared pass, weights of mixed
    /// K-quant types and sizes) and for several (one product at a time).
    #[test]
    fn shared_input_products_equal_separate_ones() {
        let k = 512;
        let weights = [
            linear(70, k, GgmlDType::Q4K, 1),
            linear(3, k, GgmlDType::Q6K, 2),
            linear(130, k, GgmlDType::Q4K, 3),
        ];
        for rows in [1, 5] {
            let x = Tensor::from_vec(test_values(rows * k, 9), (1, rows, k), &Device::Cpu).unwrap();
            let shared =
                QLinear::forward_shared([&weights[0], &weights[1], &weights[2]], &x).unwrap();
            for (linear, got) in weights.iter().zip(&shared) {
                let expected = linear.forward(&x).unwrap();
                assert_eq!(got.dims(), expected.dims());
                assert_eq!(
                    got.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                    expected.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                    "rows={rows}"
                );
            }
        }
    }
}
