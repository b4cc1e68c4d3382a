//! Auto-batching helpers: inputs of several requests concatenated along dim 0, and the outputs
//! of the batched run split back by each request's dim-0 size (SPEC §5.6).

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::{element_count, Tensor};

/// Concatenates tensors along dim 0. They must all have the same dtype, at least one dim, and
/// identical dims after the first (otherwise `Error::BatchIncompatible`, which the batching
/// policy never lets happen). STRING tensors concatenate their NUL-terminated elements.
pub fn concat(tensors: &[&Tensor]) -> Result<Tensor> {
    let (first, rest) = tensors.split_first().ok_or(Error::BatchIncompatible)?;
    let Some((_, inner)) = first.shape().split_first() else {
        return Err(Error::BatchIncompatible);
    };
    let mut dim0: i64 = 0;
    let mut bytes = 0usize;
    for t in tensors {
        let compatible = t.dtype() == first.dtype()
            && t.shape().len() == first.shape().len()
            && &t.shape()[1..] == inner;
        if !compatible {
            return Err(Error::BatchIncompatible);
        }
        dim0 = dim0
            .checked_add(t.shape()[0])
            .ok_or(Error::BatchIncompatible)?;
        bytes += t.data().len();
    }
    if rest.is_empty() {
        return Ok((*first).clone());
    }
    let mut data = Vec::with_capacity(bytes);
    for t in tensors {
        data.extend_from_slice(t.data());
    }
    let mut shape = Vec::with_capacity(first.shape().len());
    shape.push(dim0);
    shape.extend_from_slice(inner);
    Tensor::from_parts(first.dtype(), shape, data)
}

/// Splits a tensor along dim 0 into pieces of `sizes[i]` rows, in order. Dim 0 must be the sum
/// of `sizes` (and no size negative), otherwise `ERR Model did not generate the expected batch
/// size`; a 0-d tensor cannot be split either.
pub fn split(tensor: &Tensor, sizes: &[i64]) -> Result<Vec<Tensor>> {
    let Some((&dim0, inner)) = tensor.shape().split_first() else {
        return Err(Error::BatchSizeMismatch);
    };
    let total = sizes.iter().try_fold(
        0i64,
        |acc, &s| {
            if s < 0 {
                None
            } else {
                acc.checked_add(s)
            }
        },
    );
    if total != Some(dim0) {
        return Err(Error::BatchSizeMismatch);
    }
    if dim0 == 0 {
        // Nothing to cut (every size is 0): empty pieces of the same inner dims.
        return sizes
            .iter()
            .map(|_| Tensor::from_parts(tensor.dtype(), tensor.shape().to_vec(), Vec::new()))
            .collect();
    }
    let row_elements = element_count(inner).ok_or(Error::BatchSizeMismatch)? as usize;
    let data = tensor.data();
    let mut pieces = Vec::with_capacity(sizes.len());
    let mut start = 0usize;
    let mut string_ends = (tensor.dtype() == DType::String).then(|| {
        data.iter()
            .enumerate()
            .filter(|(_, &b)| b == 0)
            .map(|(i, _)| i + 1)
    });
    for &rows in sizes {
        let elements = rows as usize * row_elements;
        let end = match string_ends.as_mut() {
            Some(ends) if elements > 0 => ends.nth(elements - 1).unwrap_or(data.len()),
            Some(_) => start,
            None => start + elements * tensor.dtype().size(),
        };
        let mut shape = Vec::with_capacity(tensor.shape().len());
        shape.push(rows);
        shape.extend_from_slice(inner);
        pieces.push(Tensor::from_parts(
            tensor.dtype(),
            shape,
            data[start..end].to_vec(),
        )?);
        start = end;
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(shape: &[i64], values: &[f32]) -> Tensor {
        let blob: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor::from_blob(DType::Float, shape.to_vec(), &blob).unwrap()
    }

    fn strings(shape: &[i64], blob: &[u8]) -> Tensor {
        Tensor::from_blob(DType::String, shape.to_vec(), blob).unwrap()
    }

    #[test]
    fn concat_then_split_round_trips() {
        let a = floats(&[1, 2], &[1.0, 2.0]);
        let b = floats(&[2, 2], &[3.0, 4.0, 5.0, 6.0]);
        let c = floats(&[0, 2], &[]);
        let batch = concat(&[&a, &b, &c]).unwrap();
        assert_eq!(batch.shape(), &[3, 2]);
        assert_eq!(batch, floats(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        assert_eq!(split(&batch, &[1, 2, 0]).unwrap(), vec![a.clone(), b, c]);
        assert_eq!(concat(&[&a]).unwrap(), a);
        assert_eq!(split(&a, &[1]).unwrap(), vec![a]);
    }

    #[test]
    fn strings_concat_and_split() {
        let a = strings(&[1, 2], b"a\0\0");
        let b = strings(&[2, 2], b"bc\0d\0\0efg\0");
        let batch = concat(&[&a, &b]).unwrap();
        assert_eq!(batch, strings(&[3, 2], b"a\0\0bc\0d\0\0efg\0"));
        assert_eq!(split(&batch, &[1, 2]).unwrap(), vec![a.clone(), b.clone()]);
        let pieces = split(&batch, &[2, 0, 1]).unwrap();
        assert_eq!(pieces[0], strings(&[2, 2], b"a\0\0bc\0d\0"));
        assert_eq!(pieces[1], strings(&[0, 2], b""));
        assert_eq!(pieces[2], strings(&[1, 2], b"\0efg\0"));
    }

    #[test]
    fn incompatible_concat_is_an_error() {
        let a = floats(&[1, 2], &[1.0, 2.0]);
        let other_dims = floats(&[1, 1, 2], &[1.0, 2.0]);
        let other_inner = floats(&[2, 1], &[1.0, 2.0]);
        let double = Tensor::from_blob(DType::Double, vec![1, 2], &[0; 16]).unwrap();
        let scalar = floats(&[], &[1.0]);
        for bad in [&other_dims, &other_inner, &double] {
            assert_eq!(concat(&[&a, bad]), Err(Error::BatchIncompatible));
        }
        assert_eq!(concat(&[]), Err(Error::BatchIncompatible));
        assert_eq!(concat(&[&scalar, &scalar]), Err(Error::BatchIncompatible));
    }

    #[test]
    fn split_needs_the_expected_batch_size() {
        let t = floats(&[3, 1], &[1.0, 2.0, 3.0]);
        let scalar = floats(&[], &[1.0]);
        for sizes in [&[1, 1][..], &[2, 2], &[4, -1], &[], &[i64::MAX, 4]] {
            assert_eq!(split(&t, sizes), Err(Error::BatchSizeMismatch), "{sizes:?}");
        }
        assert_eq!(split(&scalar, &[1]), Err(Error::BatchSizeMismatch));
        assert_eq!(
            Error::BatchSizeMismatch.to_string(),
            "ERR Model did not generate the expected batch size"
        );
    }
}
