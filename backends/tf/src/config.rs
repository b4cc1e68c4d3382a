//! The session configuration: a serialized `tensorflow.ConfigProto`
//! (tensorflow/core/protobuf/config.proto), encoded by hand since only three fields are set:
//!
//! | field | number | type | value |
//! |---|---|---|---|
//! | `device_count` | 1 | `map<string, int32>` | `{"GPU": 0}`: CPU only, as RedisAI's CPU models |
//! | `intra_op_parallelism_threads` | 2 | `int32` | INTRA_OP_PARALLELISM, when > 0 |
//! | `inter_op_parallelism_threads` | 5 | `int32` | INTER_OP_PARALLELISM, when > 0 |
//!
//! (A map entry is a nested message with the key as field 1 and the value as field 2.)
//! TensorFlow sizes its thread pools once per process, from the first session's settings; every
//! session of this backend carries the same ones.

/// Protobuf wire types.
const VARINT: u8 = 0;
const LENGTH_DELIMITED: u8 = 2;

const DEVICE_COUNT: u32 = 1;
const INTRA_OP_PARALLELISM_THREADS: u32 = 2;
const INTER_OP_PARALLELISM_THREADS: u32 = 5;

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    tag(out, field, LENGTH_DELIMITED);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// An `int32` field (values here are never negative).
fn int_field(out: &mut Vec<u8>, field: u32, value: u32) {
    tag(out, field, VARINT);
    varint(out, u64::from(value));
}

/// The `ConfigProto` of a CPU session with the given thread counts (0 = TensorFlow's default).
pub fn session_config(intra_op_parallelism: u32, inter_op_parallelism: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut entry = Vec::new();
    bytes_field(&mut entry, 1, b"GPU");
    int_field(&mut entry, 2, 0);
    bytes_field(&mut out, DEVICE_COUNT, &entry);
    if intra_op_parallelism > 0 {
        int_field(&mut out, INTRA_OP_PARALLELISM_THREADS, intra_op_parallelism);
    }
    if inter_op_parallelism > 0 {
        int_field(&mut out, INTER_OP_PARALLELISM_THREADS, inter_op_parallelism);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_only_hides_gpus() {
        // device_count { key: "GPU" value: 0 }
        assert_eq!(
            session_config(0, 0),
            [0x0a, 0x07, 0x0a, 0x03, b'G', b'P', b'U', 0x10, 0x00]
        );
    }

    #[test]
    fn thread_counts() {
        let config = session_config(4, 300);
        // ... intra_op_parallelism_threads: 4, inter_op_parallelism_threads: 300 (varint 0xac 0x02)
        assert_eq!(&config[9..], [0x10, 0x04, 0x28, 0xac, 0x02]);
        assert_eq!(&session_config(0, 2)[9..], [0x28, 0x02]);
    }
}
