//! Q4_K and Q6_K weights times many activation rows (prefill), over the
//! file's compact blocks.
//!
//! candle's `QMatMul` repacks K-quant weights into tiles for batches of rows
//! and then keeps both copies (the tiles are a third larger than Q4_K blocks
//! and half again larger than Q6_K ones), and runs on its barrier pool. This
//! kernel reads the compact blocks directly, so the file's blocks are the
//! only copy, and unpacks each weight block once for several activation rows.
//! Per (weight row, activation row) pair it performs exactly the operations
//! of candle's AVX2 `vec_dot` in the same order, so every value is bit for
//! bit the one-row (decode) result.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K, GgmlType, QK_K};
use candle_core::Result;

/// Weight rows per work unit handed to a thread.
const UNIT_COLUMNS: usize = 16;
/// Activation rows per work unit: the unit's activation blocks (292 bytes
/// per 256 values) stay in the core's L2 cache while its weight rows stream.
const UNIT_ROWS: usize = 64;

pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A K-quant block type this kernel multiplies.
pub trait KQuant: GgmlType<VecDotType = BlockQ8K> + Sync {}
impl KQuant for BlockQ4K {}
impl KQuant for BlockQ6K {}

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
    if !available() {
        candle_core::bail!("{:?} matmul needs AVX2 and FMA", W::DTYPE);
    }
    let kb = k / QK_K;
    let mut lhs_q = vec![BlockQ8K::zeros(); m * kb];
    {
        use rayon::prelude::*;
        lhs.par_chunks_exact(k)
            .zip(lhs_q.par_chunks_exact_mut(kb))
            .for_each(|(row, blocks)| BlockQ8K::from_float(row, blocks));
    }
    let lhs_q: &[BlockQ8K] = &lhs_q;
    #[cfg(target_arch = "x86_64")]
    let pair_sums = avx2::pair_sums(lhs_q);
    super::linear::for_each_unit(m, n, UNIT_ROWS, UNIT_COLUMNS, dst, |rows, columns, dst| {
        // SAFETY: AVX2/FMA checked above; shapes checked above; `dst` is
        // this unit's rows × columns and is written by this unit only.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            avx2::block(weights, lhs_q, &pair_sums, kb, rows, columns, dst, n)
        };
    });
    Ok(())
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::linear::simd::{f16_to_f32, hsum};
    use super::{BlockQ4K, BlockQ6K, BlockQ8K, KQuant, QK_K};
    use candle_core::quantized::GgmlDType;
    use std::arch::x86_64::*;
    use std::ops::Range;

    /// Activation rows per tile: four rows' sums, the weight block's unpacked
    /// values and its scales fill the 16 AVX2 registers (eight spilled and
    /// measured slower).
    const TILE_ROWS: usize = 4;

    /// Same memory layout as candle's `BlockQ4K` (repr(C), 144 bytes),
    /// whose fields are private to candle.
    #[repr(C)]
    struct Q4K {
        d: u16,
        dmin: u16,
        scales: [u8; 12],
        qs: [u8; QK_K / 2],
    }
    const _: () = assert!(std::mem::size_of::<Q4K>() == std::mem::size_of::<BlockQ4K>());

    /// Same memory layout as candle's `BlockQ6K` (repr(C), 210 bytes).
    #[repr(C)]
    struct Q6K {
        ql: [u8; QK_K / 2],
        qh: [u8; QK_K / 4],
        scales: [i8; QK_K / 16],
        d: u16,
    }
    const _: () = assert!(std::mem::size_of::<Q6K>() == std::mem::size_of::<BlockQ6K>());

    /// Same memory layout as candle's `BlockQ8K` (repr(C), 292 bytes).
    #[repr(C)]
    struct Q8K {
        d: f32,
        qs: [i8; QK_K],
        bsums: [i16; QK_K / 16],
    }
    const _: () = assert!(std::mem::size_of::<Q8K>() == std::mem::size_of::<BlockQ8K>());

    /// candle's byte shuffles that spread one 16-bit scale over a register.
    const Q4K_SCALE_SHUFFLE: [[u8; 32]; 8] = {
        let mut table = [[0u8; 32]; 8];
        let mut i = 0;
        while i < 8 {
            let mut b = 0;
            while b < 32 {
                table[i][b] = (2 * i + b % 2) as u8;
                b += 1;
            }
            i += 1;
        }
        table
    };
    /// candle's byte shuffles that repeat one 8-bit scale over 8 bytes.
    const Q6K_SCALE_SHUFFLE: [[u8; 16]; 8] = {
        let mut table = [[0u8; 16]; 8];
        let mut i = 0;
        while i < 8 {
            let mut b = 0;
            while b < 16 {
                table[i][b] = (2 * i + b / 8) as u8;
                b += 1;
            }
            i += 1;
        }
        table
    };

    /// Sums of the activation values per 32-value sub-block of each Q8_K
    /// block, as candle's `vec_dot_q4k_q8k` forms them (`hadd` of its
    /// 16-value sums) for the Q4_K mins, computed once per block instead of
    /// once per weight row.
    pub(super) fn pair_sums(lhs: &[BlockQ8K]) -> Vec<[i16; 8]> {
        let blocks = lhs.as_ptr() as *const Q8K;
        (0..lhs.len())
            .map(|b| {
                // SAFETY: `Q8K` has `BlockQ8K`'s layout; `b` is in bounds.
                let sums = unsafe { &(*blocks.add(b)).bsums };
                std::array::from_fn(|t| sums[2 * t].wrapping_add(sums[2 * t + 1]))
            })
            .collect()
    }

    /// The 8 six-bit scales and 8 mins of a Q4_K block as 16 words (scales
    /// in the low half), as candle's `vec_dot_q4k_q8k` unpacks them.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn q4k_mins_and_scales(scales: &[u8; 12]) -> __m256i {
        const KMASK1: u32 = 0x3f3f3f3f;
        const KMASK2: u32 = 0x0f0f0f0f;
        const KMASK3: u32 = 0x03030303;
        let word = |i: usize| {
            u32::from_le_bytes([
                scales[4 * i],
                scales[4 * i + 1],
                scales[4 * i + 2],
                scales[4 * i + 3],
            ])
        };
        let mut utmp = [word(0), word(1), word(2), 0];
        utmp[3] = ((utmp[2] >> 4) & KMASK2) | (((utmp[1] >> 6) & KMASK3) << 4);
        let uaux = utmp[1] & KMASK1;
        utmp[1] = (utmp[2] & KMASK2) | (((utmp[0] >> 6) & KMASK3) << 4);
        utmp[2] = uaux;
        utmp[0] &= KMASK1;
        _mm256_cvtepu8_epi16(_mm_set_epi32(
            utmp[3] as i32,
            utmp[2] as i32,
            utmp[1] as i32,
            utmp[0] as i32,
        ))
    }

    /// `RM` activation rows × one Q4_K weight row.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn q4k_tile<const RM: usize>(
        w: *const Q4K,
        a: *const Q8K,
        pair_sums: *const [i16; 8],
        kb: usize,
    ) -> [f32; RM] {
        let m4 = _mm256_set1_epi8(0xF);
        let mut acc = [_mm256_setzero_ps(); RM];
        let mut acc_m = [_mm_setzero_ps(); RM];
        for b in 0..kb {
            let x = &*w.add(b);
            let xd = f16_to_f32(x.d);
            let xdmin = f16_to_f32(x.dmin);
            let mins_and_scales = q4k_mins_and_scales(&x.scales);
            let mins = _mm256_extracti128_si256(mins_and_scales, 1);
            let sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
            let scales = _mm256_set_m128i(sc128, sc128);
            let mut sumi = [_mm256_setzero_si256(); RM];
            for i in 0..RM {
                let y = &*a.add(i * kb + b);
                let q8s = _mm_loadu_si128(pair_sums.add(i * kb + b) as *const __m128i);
                let prod = _mm_madd_epi16(mins, q8s);
                let dmin = -y.d * xdmin;
                acc_m[i] = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m[i]);
            }
            for j in 0..QK_K / 64 {
                let shuffle =
                    |s: usize| _mm256_loadu_si256(Q4K_SCALE_SHUFFLE[s].as_ptr() as *const __m256i);
                let scale_l = _mm256_shuffle_epi8(scales, shuffle(2 * j));
                let scale_h = _mm256_shuffle_epi8(scales, shuffle(2 * j + 1));
                let q4bits = _mm256_loadu_si256(x.qs.as_ptr().add(32 * j) as *const __m256i);
                let q4l = _mm256_and_si256(q4bits, m4);
                let q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
                for (i, sum) in sumi.iter_mut().enumerate() {
                    let q8 = (*a.add(i * kb + b)).qs.as_ptr().add(64 * j);
                    let q8l = _mm256_loadu_si256(q8 as *const __m256i);
                    let p16l = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(q4l, q8l));
                    *sum = _mm256_add_epi32(*sum, p16l);
                    let q8h = _mm256_loadu_si256(q8.add(32) as *const __m256i);
                    let p16h = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(q4h, q8h));
                    *sum = _mm256_add_epi32(*sum, p16h);
                }
            }
            for i in 0..RM {
                let d = (*a.add(i * kb + b)).d * xd;
                acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[i]), acc[i]);
            }
        }
        let mut out = [0f32; RM];
        for i in 0..RM {
            let m = _mm_add_ps(acc_m[i], _mm_movehl_ps(acc_m[i], acc_m[i]));
            let m = _mm_add_ss(m, _mm_movehdup_ps(m));
            out[i] = hsum(acc[i]) + _mm_cvtss_f32(m);
        }
        out
    }

    /// `RM` activation rows × one Q6_K weight row.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn q6k_tile<const RM: usize>(w: *const Q6K, a: *const Q8K, kb: usize) -> [f32; RM] {
        let m4 = _mm256_set1_epi8(0xF);
        let m2 = _mm256_set1_epi8(3);
        let m32s = _mm256_set1_epi8(32);
        let mut acc = [_mm256_setzero_ps(); RM];
        for b in 0..kb {
            let x = &*w.add(b);
            let xd = f16_to_f32(x.d);
            let scales = _mm_loadu_si128(x.scales.as_ptr() as *const __m128i);
            let mut sumi = [_mm256_setzero_si256(); RM];
            for j in 0..QK_K / 128 {
                let shuffle = |s: usize| {
                    let scale = _mm_shuffle_epi8(
                        scales,
                        _mm_loadu_si128(Q6K_SCALE_SHUFFLE[s].as_ptr() as *const __m128i),
                    );
                    _mm256_cvtepi8_epi16(scale)
                };
                let scale = [
                    shuffle(j * 4),
                    shuffle(j * 4 + 1),
                    shuffle(j * 4 + 2),
                    shuffle(j * 4 + 3),
                ];
                let q4bits1 = _mm256_loadu_si256(x.ql.as_ptr().add(64 * j) as *const __m256i);
                let q4bits2 = _mm256_loadu_si256(x.ql.as_ptr().add(64 * j + 32) as *const __m256i);
                let q4bits_h = _mm256_loadu_si256(x.qh.as_ptr().add(32 * j) as *const __m256i);
                let high = |shift: i32| {
                    let bits = match shift {
                        0 => q4bits_h,
                        2 => _mm256_srli_epi16(q4bits_h, 2),
                        4 => _mm256_srli_epi16(q4bits_h, 4),
                        _ => _mm256_srli_epi16(q4bits_h, 6),
                    };
                    _mm256_slli_epi16(_mm256_and_si256(bits, m2), 4)
                };
                let q6 = [
                    _mm256_or_si256(_mm256_and_si256(q4bits1, m4), high(0)),
                    _mm256_or_si256(_mm256_and_si256(q4bits2, m4), high(2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m4), high(4)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m4), high(6)),
                ];
                for (i, sum) in sumi.iter_mut().enumerate() {
                    let q8 = (*a.add(i * kb + b)).qs.as_ptr().add(128 * j);
                    let mut p = [_mm256_setzero_si256(); 4];
                    for (t, p) in p.iter_mut().enumerate() {
                        let q8t = _mm256_loadu_si256(q8.add(32 * t) as *const __m256i);
                        let q8s = _mm256_maddubs_epi16(m32s, q8t);
                        let p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q6[t], q8t), q8s);
                        *p = _mm256_madd_epi16(scale[t], p16);
                    }
                    *sum = _mm256_add_epi32(*sum, _mm256_add_epi32(p[0], p[1]));
                    *sum = _mm256_add_epi32(*sum, _mm256_add_epi32(p[2], p[3]));
                }
            }
            for i in 0..RM {
                let d = (*a.add(i * kb + b)).d * xd;
                acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[i]), acc[i]);
            }
        }
        let mut out = [0f32; RM];
        for i in 0..RM {
            out[i] = hsum(acc[i]);
        }
        out
    }

    /// Rows `rows` × columns `columns` of the product into `dst` (the whole
    /// output, `n` values per row). Each group of up to `TILE_ROWS` activation
    /// rows meets every weight row of the unit while it is still in cache.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block<W: KQuant>(
        weights: &[W],
        lhs: &[BlockQ8K],
        pair_sums: &[[i16; 8]],
        kb: usize,
        rows: Range<usize>,
        columns: Range<usize>,
        dst: *mut f32,
        n: usize,
    ) {
        let a = lhs.as_ptr() as *const Q8K;
        let mut i = rows.start;
        while i < rows.end {
            let rm = (rows.end - i).min(TILE_ROWS);
            let ap = a.add(i * kb);
            let sp = pair_sums.as_ptr().add(i * kb);
            for column in columns.clone() {
                let w = weights.as_ptr().add(column * kb);
                let out = dst.add(i * n + column);
                macro_rules! tile {
                    ($rm:literal) => {{
                        let values = match W::DTYPE {
                            GgmlDType::Q4K => q4k_tile::<$rm>(w as *const Q4K, ap, sp, kb),
                            _ => q6k_tile::<$rm>(w as *const Q6K, ap, kb),
                        };
                        for (r, v) in values.iter().enumerate() {
                            *out.add(r * n) = *v;
                        }
                    }};
                }
                match rm {
                    1 => tile!(1),
                    2 => tile!(2),
                    3 => tile!(3),
                    _ => tile!(4),
                }
            }
            i += rm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    use super::super::linear::test_values as values;

    /// Every value equals candle's one-row dot product of the same blocks.
    fn matches_vec_dot<W: KQuant>(dtype: GgmlDType) {
        for (m, n, k) in [(1, 3, 256), (5, 17, 512), (70, 33, 256), (9, 40, 1536)] {
            let w = Tensor::from_vec(values(n * k, 7), (n, k), &Device::Cpu).unwrap();
            let q = QTensor::quantize(&w, dtype).unwrap();
            let data = q.data().unwrap();
            let blocks = super::super::linear::as_blocks::<W>(&data, n * k).unwrap();
            let x = values(m * k, 11);
            let kb = k / QK_K;
            let mut expected = vec![0f32; m * n];
            for r in 0..m {
                let mut xq = vec![BlockQ8K::zeros(); kb];
                BlockQ8K::from_float(&x[r * k..(r + 1) * k], &mut xq);
                for c in 0..n {
                    expected[r * n + c] = W::vec_dot(k, &blocks[c * kb..(c + 1) * kb], &xq);
                }
            }
            let mut got = vec![0f32; m * n];
            matmul(blocks, n, k, &x, &mut got).unwrap();
            assert_eq!(got, expected, "{dtype:?} m={m} n={n} k={k}");
        }
    }

    #[test]
    fn q4k_matches_candle_vec_dot_bit_for_bit() {
        if available() {
            matches_vec_dot::<BlockQ4K>(GgmlDType::Q4K);
        }
    }

    #[test]
    fn q6k_matches_candle_vec_dot_bit_for_bit() {
        if available() {
            matches_vec_dot::<BlockQ6K>(GgmlDType::Q6K);
        }
    }

    #[test]
    fn rejects_mismatched_shapes() {
        let q = QTensor::quantize(
            &Tensor::zeros((4, 256), candle_core::DType::F32, &Device::Cpu).unwrap(),
            GgmlDType::Q4K,
        )
        .unwrap();
        let data = q.data().unwrap();
        let blocks = super::super::linear::as_blocks::<BlockQ4K>(&data, 4 * 256).unwrap();
        let mut dst = vec![0f32; 4];
        assert!(matmul(blocks, 4, 256, &[0.0; 257], &mut dst).is_err());
        assert!(matmul(blocks, 4, 256, &[0.0; 512], &mut dst).is_err());
    }
}
