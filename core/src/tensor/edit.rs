//! In-place edits of a tensor nobody else holds, and single-element access by type: what the C
//! API for other modules offers (`src/llapi/`). Every edit keeps the tensor's invariants (data
//! length, BOOL elements 0 or 1, STRING elements NUL-terminated); an edit that would break one
//! is refused and changes nothing.

use super::{data_fits, Tensor};
use crate::batch::split;
use crate::dtype::DType;
use crate::error::{Error, Result};

impl Tensor {
    /// Replaces the data with `blob`, checked as AI.TENSORSET ... BLOB checks it.
    pub fn set_data(&mut self, blob: &[u8]) -> Result<()> {
        let checked = Tensor::from_blob(self.dtype, self.shape.clone(), blob)?;
        self.data = checked.data;
        Ok(())
    }

    /// The data buffer to write in place; `None` for STRING tensors (whose element boundaries
    /// live in the data: they change through [`Tensor::set_data`] only).
    pub fn data_mut(&mut self) -> Option<&mut [u8]> {
        (self.dtype != DType::String).then_some(&mut self.data[..])
    }

    /// Element `i` of an integer or BOOL tensor (`None` past the end or for another dtype).
    pub fn int_at(&self, i: usize) -> Option<i64> {
        if i >= self.len || matches!(self.dtype, DType::Float | DType::Double | DType::String) {
            return None;
        }
        match self.value(i)? {
            super::Value::Int(v) => Some(v),
            _ => None,
        }
    }

    /// Element `i` of a FLOAT or DOUBLE tensor (`None` past the end or for another dtype).
    pub fn float_at(&self, i: usize) -> Option<f64> {
        if i >= self.len {
            return None;
        }
        match (self.dtype, self.value(i)?) {
            (DType::Float | DType::Double, super::Value::Float(v)) => Some(v),
            _ => None,
        }
    }

    /// Sets element `i` of an integer tensor to `v` converted as C converts it (wrapped to the
    /// element's width), or of a BOOL tensor to `v` when it is 0 or 1. False (nothing changed)
    /// past the end, for a BOOL value other than 0 or 1, or for another dtype.
    pub fn set_int(&mut self, i: usize, v: i64) -> bool {
        let size = self.dtype.size();
        let ok = i < self.len
            && match self.dtype {
                DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => true,
                DType::Uint8 | DType::Uint16 => true,
                DType::Bool => v == 0 || v == 1,
                DType::Float | DType::Double | DType::String => false,
            };
        if ok {
            self.data[i * size..(i + 1) * size].copy_from_slice(&v.to_le_bytes()[..size]);
        }
        ok
    }

    /// Sets element `i` of a FLOAT (narrowed to f32) or DOUBLE tensor. False (nothing changed)
    /// past the end or for another dtype.
    pub fn set_float(&mut self, i: usize, v: f64) -> bool {
        if i >= self.len {
            return false;
        }
        match self.dtype {
            DType::Float => {
                self.data[i * 4..(i + 1) * 4].copy_from_slice(&(v as f32).to_le_bytes())
            }
            DType::Double => self.data[i * 8..(i + 1) * 8].copy_from_slice(&v.to_le_bytes()),
            _ => return false,
        }
        true
    }

    /// Rows `offset..offset + len` of dim 0, as a new tensor (STRING elements included); refused
    /// for a 0-d tensor or rows past the end.
    pub fn rows(&self, offset: i64, len: i64) -> Result<Tensor> {
        let dim0 = self
            .shape
            .first()
            .copied()
            .ok_or(Error::BatchIncompatible)?;
        let end = offset.checked_add(len).ok_or(Error::BatchIncompatible)?;
        if offset < 0 || len < 0 || end > dim0 {
            return Err(Error::BatchIncompatible);
        }
        let mut pieces = split(self, &[offset, len, dim0 - end])?;
        let piece = pieces.swap_remove(1);
        debug_assert!(data_fits(piece.dtype, piece.len as u64, &piece.data));
        Ok(piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_data_is_checked_and_all_or_nothing() {
        let mut t = Tensor::zeroed(DType::Bool, vec![4]).unwrap();
        assert_eq!(t.set_data(&[2, 0, 0, 0]), Err(Error::BoolBlob));
        assert_eq!(t.data(), &[0, 0, 0, 0]);
        assert_eq!(t.set_data(&[1, 0]), Err(Error::DataLength));
        assert_eq!(t.set_data(&[1, 0, 1, 1]), Ok(()));
        assert_eq!(t.data(), &[1, 0, 1, 1]);
        let mut s = Tensor::zeroed(DType::String, vec![2]).unwrap();
        assert!(s.set_data(b"only one string").is_err());
        assert!(s.set_data(b"one\0").is_err());
        assert_eq!(s.set_data(b"one\0two\0"), Ok(()));
        assert_eq!(s.len(), 2);
        assert!(s.data_mut().is_none());
    }

    #[test]
    fn elements_by_type() {
        let mut t = Tensor::zeroed(DType::Int8, vec![2]).unwrap();
        assert!(t.set_int(0, -3));
        assert!(t.set_int(1, 300)); // wrapped to 44, as a C cast
        assert!(!t.set_int(2, 1));
        assert!(!t.set_float(0, 1.5));
        assert_eq!(
            (t.int_at(0), t.int_at(1), t.int_at(2)),
            (Some(-3), Some(44), None)
        );
        assert_eq!(t.float_at(0), None);
        let mut f = Tensor::zeroed(DType::Float, vec![1]).unwrap();
        assert!(f.set_float(0, 2.5));
        assert!(!f.set_int(0, 1));
        assert_eq!((f.float_at(0), f.int_at(0)), (Some(2.5), None));
        let mut b = Tensor::zeroed(DType::Bool, vec![1]).unwrap();
        assert!(!b.set_int(0, 2));
        assert!(b.set_int(0, 1));
        assert_eq!(b.int_at(0), Some(1));
    }

    #[test]
    fn rows_of_dim_0() {
        let s = Tensor::from_blob(DType::String, vec![3, 2], b"a\0b\0c\0d\0e\0f\0").unwrap();
        let r = s.rows(1, 2).unwrap();
        assert_eq!(
            (r.shape(), r.data()),
            (&[2i64, 2][..], &b"c\0d\0e\0f\0"[..])
        );
        assert!(s.rows(2, 2).is_err());
        assert!(s.rows(-1, 1).is_err());
        assert_eq!(s.rows(3, 0).unwrap().shape(), &[0, 2]);
        let z = Tensor::zeroed(DType::Float, Vec::<i64>::new()).unwrap();
        assert!(z.rows(0, 1).is_err());
    }
}
