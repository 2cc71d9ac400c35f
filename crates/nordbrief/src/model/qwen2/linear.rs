//! Quantized linear layers with the kernel that is fastest here for each
//! weight type and batch size.
//!
//! candle's `QMatMul` repacks Q4_K and Q6_K weights into tiles with f32
//! scales, then holds both copies (1.1 GB more for the 1.5B model) and runs
//! them on its barrier pool, whose threads spin and halve decode on a busy
//! machine. So K-quant weights are never repacked: [`kquants::matmul`]
//! reads the compact blocks for one row (decode) and for batches of rows
//! (prefill, interleaving the activations instead), on rayon, and gives
//! the same integer sums per block as candle (the float sums over blocks
//! differ only in order).
//!
//! candle has no AVX2 kernel for Q8_0 weights beyond a one-block-at-a-time
//! dot product (~7 Gop/s per core here), so Q8_0 products use
//! [`q8_0::matmul`], a register-tiled kernel over the same blocks that gives
//! bit-identical results.

use candle_core::quantized::k_quants;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Module, Result, Tensor};
use nordbrief_kernels::kquants::{self, KQuantRows};
use nordbrief_kernels::{as_blocks, available as kernels_available, q8_0};
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
            GgmlDType::Q4K => kquants::matmul(
                as_blocks::<k_quants::BlockQ4K>(&data, n * k)?,
                n,
                k,
                &lhs,
                &mut dst,
            )?,
            _ => kquants::matmul(
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
    /// of them in one parallel pass (see [`kquants::one_row_products`]).
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
        kquants::one_row_products(k, &lhs, &mut products)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use nordbrief_kernels::test_values;

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
