//! The dimensions of a tensor, kept inline (no heap allocation) up to [`INLINE_DIMS`] dims, which
//! covers every tensor RedisAI's users create; longer shapes go to the heap.

use std::fmt;
use std::ops::Deref;

/// Dims kept without a heap allocation.
pub const INLINE_DIMS: usize = 8;

/// A tensor's dims (dim 0 first). Dereferences to `[i64]`.
#[derive(Clone)]
pub struct Shape(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, dims: [i64; INLINE_DIMS] },
    Heap(Vec<i64>),
}

impl Shape {
    /// A shape with no dims (a 0-d tensor).
    pub const fn new() -> Shape {
        Shape(Repr::Inline {
            len: 0,
            dims: [0; INLINE_DIMS],
        })
    }

    /// Appends a dim.
    pub fn push(&mut self, dim: i64) {
        match &mut self.0 {
            Repr::Inline { len, dims } if (*len as usize) < INLINE_DIMS => {
                dims[*len as usize] = dim;
                *len += 1;
            }
            Repr::Inline { len, dims } => {
                let mut heap = Vec::with_capacity(INLINE_DIMS * 2);
                heap.extend_from_slice(&dims[..*len as usize]);
                heap.push(dim);
                self.0 = Repr::Heap(heap);
            }
            Repr::Heap(heap) => heap.push(dim),
        }
    }

    /// Heap bytes used (0 when inline), for MEMORY USAGE.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(heap) => heap.capacity() * std::mem::size_of::<i64>(),
        }
    }
}

impl Default for Shape {
    fn default() -> Shape {
        Shape::new()
    }
}

impl Deref for Shape {
    type Target = [i64];

    fn deref(&self) -> &[i64] {
        match &self.0 {
            Repr::Inline { len, dims } => &dims[..*len as usize],
            Repr::Heap(heap) => heap,
        }
    }
}

impl From<&[i64]> for Shape {
    fn from(dims: &[i64]) -> Shape {
        if dims.len() <= INLINE_DIMS {
            let mut inline = [0; INLINE_DIMS];
            inline[..dims.len()].copy_from_slice(dims);
            Shape(Repr::Inline {
                len: dims.len() as u8,
                dims: inline,
            })
        } else {
            Shape(Repr::Heap(dims.to_vec()))
        }
    }
}

impl<const N: usize> From<[i64; N]> for Shape {
    fn from(dims: [i64; N]) -> Shape {
        Shape::from(&dims[..])
    }
}

impl From<Vec<i64>> for Shape {
    fn from(dims: Vec<i64>) -> Shape {
        if dims.len() <= INLINE_DIMS {
            Shape::from(dims.as_slice())
        } else {
            Shape(Repr::Heap(dims))
        }
    }
}

impl FromIterator<i64> for Shape {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Shape {
        let mut shape = Shape::new();
        for dim in iter {
            shape.push(dim);
        }
        shape
    }
}

impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        **self == **other
    }
}

impl Eq for Shape {}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_then_heap() {
        let mut shape = Shape::new();
        assert_eq!(&*shape, &[] as &[i64]);
        for d in 1..=INLINE_DIMS as i64 {
            shape.push(d);
        }
        assert_eq!(shape.heap_bytes(), 0);
        shape.push(99);
        assert!(shape.heap_bytes() > 0);
        let expected: Vec<i64> = (1..=INLINE_DIMS as i64).chain([99]).collect();
        assert_eq!(&*shape, expected.as_slice());
        assert_eq!(Shape::from(expected.clone()), shape);
        assert_eq!(shape.iter().copied().collect::<Shape>(), shape);
        assert_eq!(Shape::from([2, 3]), Shape::from(vec![2, 3]));
        assert_eq!(format!("{:?}", Shape::from([2, 3])), "[2, 3]");
    }
}
