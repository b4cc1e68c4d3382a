//! Pooling of an encoder's token states into one vector per text, and L2 normalisation
//! (sentence-transformers' `Pooling` and `Normalize` modules).

use redisai_core::text::Pooling;
use redisai_core::{DType, Error, Result, Tensor, Value};

const OP: &str = "AI.POOL";

/// The FLOAT values of a tensor.
fn floats(t: &Tensor) -> impl Iterator<Item = f32> + '_ {
    t.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn float_tensor(rows: usize, dim: usize, values: Vec<f32>) -> Result<Tensor> {
    let data = values.into_iter().flat_map(f32::to_le_bytes).collect();
    Tensor::from_parts(DType::Float, [rows as i64, dim as i64], data)
}

/// Whether each mask element is set (any dtype: non-zero is set).
fn mask_bits(mask: &Tensor) -> Vec<bool> {
    mask.values()
        .map(|v| match v {
            Value::Int(i) => i != 0,
            Value::Float(f) => f != 0.0,
            Value::Str(_) => false,
        })
        .collect()
}

/// Pools `hidden` (FLOAT `[N, L, D]`) into FLOAT `[N, D]`: MEAN over the positions where `mask`
/// (`[N, L]`, any numeric dtype) is set (all positions without a mask), or CLS (position 0).
/// A FLOAT `[N, D]` input is already one vector per text and is passed through.
pub fn pool(hidden: &Tensor, mask: Option<&Tensor>, pooling: Pooling) -> Result<Tensor> {
    if hidden.dtype() != DType::Float {
        return Err(Error::text_op(OP, "token states must be a FLOAT tensor"));
    }
    let (n, l, d) = match *hidden.shape() {
        [n, d] => return float_tensor(n as usize, d as usize, floats(hidden).collect()),
        [n, l, d] => (n as usize, l as usize, d as usize),
        _ => {
            return Err(Error::text_op(
                OP,
                "token states must be FLOAT [N, L, D] (or [N, D])",
            ))
        }
    };
    let bits = match mask {
        Some(m) => {
            if m.dtype() == DType::String || m.shape() != [n as i64, l as i64] {
                return Err(Error::text_op(
                    OP,
                    "the attention mask must be a numeric [N, L] tensor matching the token states",
                ));
            }
            mask_bits(m)
        }
        None => vec![true; n * l],
    };
    let values: Vec<f32> = floats(hidden).collect();
    let mut out = vec![0f32; n * d];
    for row in 0..n {
        let dst = &mut out[row * d..(row + 1) * d];
        let token = |t: usize| &values[(row * l + t) * d..(row * l + t + 1) * d];
        match pooling {
            Pooling::Cls => {
                if l > 0 {
                    dst.copy_from_slice(token(0));
                }
            }
            Pooling::Mean => {
                let mut sum = vec![0f64; d];
                let mut count = 0usize;
                for t in (0..l).filter(|&t| bits[row * l + t]) {
                    count += 1;
                    for (s, &v) in sum.iter_mut().zip(token(t)) {
                        *s += f64::from(v);
                    }
                }
                // sentence-transformers divides by max(count, 1e-9): no tokens give zeros.
                let count = (count as f64).max(1e-9);
                for (o, s) in dst.iter_mut().zip(sum) {
                    *o = (s / count) as f32;
                }
            }
        }
    }
    float_tensor(n, d, out)
}

/// Scales every row of a FLOAT `[N, D]` tensor to unit L2 norm (rows of zeros stay zero, as
/// torch's `normalize` with eps 1e-12).
pub fn normalize(t: &Tensor) -> Result<Tensor> {
    let [n, d] = *t.shape() else {
        return Err(Error::text_op(OP, "NORMALIZE needs FLOAT [N, D] vectors"));
    };
    if t.dtype() != DType::Float {
        return Err(Error::text_op(OP, "NORMALIZE needs FLOAT [N, D] vectors"));
    }
    let mut values: Vec<f32> = floats(t).collect();
    if d > 0 {
        for row in values.chunks_mut(d as usize) {
            let norm = row
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            let scale = 1.0 / norm.max(1e-12);
            row.iter_mut()
                .for_each(|v| *v = (f64::from(*v) * scale) as f32);
        }
    }
    float_tensor(n as usize, d as usize, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(shape: &[i64], v: &[f32]) -> Tensor {
        let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        Tensor::from_parts(DType::Float, shape, data).unwrap()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        floats(t).collect()
    }

    #[test]
    fn mean_follows_the_mask_and_cls_takes_the_first() {
        // Two texts, three positions, two dims; the second text has one padded position.
        let hidden = float(
            &[2, 3, 2],
            &[1., 2., 3., 4., 5., 6., 10., 20., 30., 40., 99., 99.],
        );
        let mask = Tensor::from_values(DType::Int64, [2, 3], &[b"1", b"1", b"1", b"1", b"1", b"0"])
            .unwrap();
        let mean = pool(&hidden, Some(&mask), Pooling::Mean).unwrap();
        assert_eq!(mean.shape(), &[2, 2]);
        assert_eq!(values(&mean), vec![3., 4., 20., 30.]);
        let cls = pool(&hidden, Some(&mask), Pooling::Cls).unwrap();
        assert_eq!(values(&cls), vec![1., 2., 10., 20.]);
        let unmasked = pool(&hidden, None, Pooling::Mean).unwrap();
        assert_eq!(values(&unmasked)[2..], [46.333332, 53.0]);
        let zero_mask = Tensor::zeroed(DType::Int64, [2, 3]).unwrap();
        assert_eq!(
            values(&pool(&hidden, Some(&zero_mask), Pooling::Mean).unwrap()),
            vec![0.; 4]
        );
    }

    #[test]
    fn normalize_gives_unit_rows() {
        let t = float(&[2, 2], &[3., 4., 0., 0.]);
        assert_eq!(values(&normalize(&t).unwrap()), vec![0.6, 0.8, 0., 0.]);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let hidden = float(&[1, 2, 2], &[1.; 4]);
        let wrong_mask = Tensor::zeroed(DType::Int64, [1, 3]).unwrap();
        assert!(pool(&hidden, Some(&wrong_mask), Pooling::Mean).is_err());
        let ints = Tensor::zeroed(DType::Int32, [1, 2, 2]).unwrap();
        assert!(pool(&ints, None, Pooling::Mean).is_err());
        let rank1 = float(&[4], &[1.; 4]);
        assert!(pool(&rank1, None, Pooling::Cls).is_err());
        assert!(normalize(&rank1).is_err());
    }
}
