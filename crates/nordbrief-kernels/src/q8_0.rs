//! Q8_0 weights times f32 activations (quantized to Q8_0 per row, as candle
//! does), tiled so that each loaded block serves several rows and columns.

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
    if !crate::available() {
        candle_core::bail!("q8_0 matmul needs AVX2 and FMA");
    }
    let kb = k / QK8_0;
    let mut lhs_q = vec![BlockQ8_0::zeros(); m * kb];
    for (row, blocks) in lhs.chunks_exact(k).zip(lhs_q.chunks_exact_mut(kb)) {
        BlockQ8_0::from_float(row, blocks);
    }
    let lhs_q: &[BlockQ8_0] = &lhs_q;
    crate::for_each_unit(m, n, UNIT_ROWS, UNIT_COLUMNS, dst, |rows, columns, dst| {
        // SAFETY: AVX2/FMA checked above; the unit's rows × columns
        // of dst are written by this unit only.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            crate::avx2::q8_0::block(weights, lhs_q, kb, rows, columns, dst, n)
        };
    });
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
    use candle_core::{Device, Module, Tensor};

    use crate::test_values as values;

    /// Against candle's own Q8_0 product, for shapes that leave partial
    /// tiles and units on both sides.
    #[test]
    fn matches_candle_bit_for_bit() {
        if !crate::available() {
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
            let expected = QMatMul::from_qtensor(QTensor::quantize(&w, GgmlDType::Q8_0).unwrap())
                .unwrap()
                .forward(&Tensor::from_vec(x.clone(), (m, k), &Device::Cpu).unwrap())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let data = q.data().unwrap();
            let blocks = crate::as_blocks::<BlockQ8_0>(&data, n * k).unwrap();
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
        let blocks = crate::as_blocks::<BlockQ8_0>(&data, 4 * 64).unwrap();
        let mut dst = vec![0f32; 4];
        assert!(matmul(blocks, 4, 64, &[0.0; 65], &mut dst).is_err());
        assert!(matmul(blocks, 4, 64, &[0.0; 128], &mut dst).is_err());
    }
}
