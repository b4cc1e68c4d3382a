//! DUMP payloads of module values, built field by field (RDB module opcodes, CRC-64 of Redis).

use crc::{Crc, CRC_64_REDIS};

/// RDB module opcodes.
const OPCODE_UINT: u8 = 2;
const OPCODE_STRING: u8 = 5;

/// Module type ids (name hash; the low 10 bits carry the encoding version).
pub const AI_TENSOR_TYPE_ID: u64 = 0x008f_d310_d48e_4404;
pub const AI_MODEL_TYPE_ID: u64 = 0x008f_ff30_e0c4_2c04;
pub const AI_SCRIPT_TYPE_ID: u64 = 0x008f_d209_120f_4c04;

/// One saved value: an unsigned integer or a string buffer.
pub enum Field<'a> {
    U(u64),
    S(&'a [u8]),
}

fn rdb_len(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=63 => out.push(n as u8),
        64..=16383 => out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]),
        16384..=0xffff_ffff => {
            out.push(0x80);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(0x81);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// A DUMP payload of a value of the module type `type_id` at encoding version `encver`.
pub fn module_payload(type_id: u64, encver: u64, fields: &[Field]) -> Vec<u8> {
    let mut out = vec![7]; // RDB_TYPE_MODULE_2
    rdb_len(&mut out, (type_id & !0x3ff) | encver);
    for field in fields {
        match field {
            Field::U(v) => {
                out.push(OPCODE_UINT);
                rdb_len(&mut out, *v);
            }
            Field::S(bytes) => {
                out.push(OPCODE_STRING);
                rdb_len(&mut out, bytes.len() as u64);
                out.extend_from_slice(bytes);
            }
        }
    }
    out.push(0); // EOF opcode
    out.extend_from_slice(&10u16.to_le_bytes()); // RDB version of Redis 7.0
    let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The module's part of a DUMP payload: everything but the server's trailer (its RDB version,
/// two bytes, and the CRC-64, eight), which differs between servers (Redis 7.0 writes RDB 10,
/// Valkey 8 11, Redis 8 12). Checks the trailer is well formed.
pub fn module_part(payload: &[u8]) -> &[u8] {
    assert!(
        payload.len() > 10,
        "a DUMP payload of {} bytes",
        payload.len()
    );
    let (body, trailer) = payload.split_at(payload.len() - 10);
    let rdb_version = u16::from_le_bytes([trailer[0], trailer[1]]);
    assert!((9..=20).contains(&rdb_version), "RDB version {rdb_version}");
    let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&payload[..payload.len() - 8]);
    assert_eq!(trailer[2..], crc.to_le_bytes(), "CRC-64 of the payload");
    body
}
