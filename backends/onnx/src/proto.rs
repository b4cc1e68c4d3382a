//! A small reader of the protobuf wire format, enough to walk an ONNX `ModelProto` before ONNX
//! Runtime sees it (external data, operator domains). It reads what protobuf's own parser
//! reads, groups included, and stops at the first malformed byte.

/// A field of a protobuf message: its number and its value.
pub enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

/// Iterates over the fields of one message; stops at its end or at malformed input.
pub struct Fields<'a> {
    pub buf: &'a [u8],
}

pub fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Nested groups deeper than this are malformed as far as the walk is concerned.
const MAX_GROUP_DEPTH: u32 = 64;

impl<'a> Fields<'a> {
    fn next_field(&mut self, depth: u32) -> Option<(u64, Value<'a>)> {
        let key = varint(&mut self.buf)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut self.buf)?),
            1 => {
                self.buf = self.buf.get(8..)?;
                Value::Other
            }
            2 => {
                let len = usize::try_from(varint(&mut self.buf)?).ok()?;
                let bytes = self.buf.get(..len)?;
                self.buf = &self.buf[len..];
                Value::Bytes(bytes)
            }
            // A (deprecated) group: skip its fields up to the matching end-group key.
            3 if depth < MAX_GROUP_DEPTH => {
                loop {
                    let mut peek = self.buf;
                    let inner = varint(&mut peek)?;
                    if inner & 7 == 4 {
                        if inner >> 3 != key >> 3 {
                            return None;
                        }
                        self.buf = peek;
                        break;
                    }
                    self.next_field(depth + 1)?;
                }
                Value::Other
            }
            5 => {
                self.buf = self.buf.get(4..)?;
                Value::Other
            }
            _ => return None,
        };
        Some((key >> 3, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u64, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        self.next_field(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_skipped_like_protobuf_does() {
        // field 1 varint 5, field 2 group { field 3 varint 1 }, field 4 bytes "ab"
        let buf = [0x08, 5, 0x13, 0x18, 1, 0x14, 0x22, 2, b'a', b'b'];
        let fields: Vec<u64> = Fields { buf: &buf }.map(|(n, _)| n).collect();
        assert_eq!(fields, [1, 2, 4]);
        // an end-group key of another field is malformed
        let bad = [0x13, 0x1c];
        assert_eq!(Fields { buf: &bad }.count(), 0);
    }
}
