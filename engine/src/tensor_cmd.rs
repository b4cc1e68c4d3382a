//! AI.TENSORSET and AI.TENSORGET grammars (SPEC §3.1, §3.2).

use redisai_core::numparse::parse_i64;
use redisai_core::tensor::zeroed_byte_size;
use redisai_core::{DType, Error, Result, Shape, Tensor};

use crate::command::Command;
use crate::names::{TENSORGET, TENSORSET};

/// `AI.TENSORSET <key> <DTYPE> <dim>... BLOB <data>`: the command that recreates `tensor` at
/// `key` (AOF rewrite, and the replication of every tensor a run or DAG writes), as RedisAI
/// writes it: a tensor made with VALUES comes back as BLOB. The data is borrowed.
pub fn tensorset_command<'a>(key: &'a [u8], tensor: &'a Tensor) -> Command<'a> {
    let mut command = Command::new(TENSORSET);
    command.arg(key).arg(tensor.dtype().name().as_bytes());
    for &dim in tensor.shape() {
        command.number(dim);
    }
    command.arg(b"BLOB").arg(tensor.data());
    command
}

/// Checks the argument count of AI.TENSORSET (`argv` includes the command name).
pub fn tensorset_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() < 4 {
        return Err(Error::WrongArity(TENSORSET));
    }
    Ok(())
}

/// Builds the tensor of `AI.TENSORSET <key> <type> [dim ...] [BLOB <data> | VALUES <v> ...]`.
/// `argv` is the whole command; the key type has already been checked by the caller.
/// `max_bytes` bounds a tensor created without data (it is only asked for then).
pub fn parse_tensorset(argv: &[&[u8]], max_bytes: impl FnOnce() -> u64) -> Result<Tensor> {
    tensorset_arity(argv)?;
    let dtype = DType::parse(argv[2])?;
    let rest = &argv[3..];
    let data_at = rest
        .iter()
        .position(|a| a.eq_ignore_ascii_case(b"BLOB") || a.eq_ignore_ascii_case(b"VALUES"))
        .unwrap_or(rest.len());
    let mut shape = Shape::new();
    for dim in &rest[..data_at] {
        match parse_i64(dim) {
            Some(d) if d > 0 => shape.push(d),
            _ => return Err(Error::InvalidShape),
        }
    }
    let Some((keyword, data)) = rest[data_at..].split_first() else {
        let limit = max_bytes();
        return match zeroed_byte_size(dtype, &shape) {
            Some(bytes) if bytes <= limit => Tensor::zeroed(dtype, shape),
            _ => Err(Error::TensorTooLarge(limit)),
        };
    };
    if keyword.eq_ignore_ascii_case(b"BLOB") {
        match data {
            [blob] => Tensor::from_blob(dtype, shape, blob),
            _ => Err(Error::BlobArgument),
        }
    } else {
        Tensor::from_values(dtype, shape, data)
    }
}

/// What AI.TENSORGET replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetFormat {
    /// Reply the `dtype` and `shape` fields.
    pub meta: bool,
    /// Reply the data, and how.
    pub data: Option<DataFormat>,
}

/// Data encodings of AI.TENSORGET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// The raw buffer as one bulk string.
    Blob,
    /// Every element: integers, `%.17g` doubles or strings.
    Values,
}

/// Checks the argument count of AI.TENSORGET (`argv` includes the command name).
pub fn tensorget_arity(argv: &[&[u8]]) -> Result<()> {
    if !(2..=4).contains(&argv.len()) {
        return Err(Error::WrongArity(TENSORGET));
    }
    Ok(())
}

/// Parses the options after the key: META, BLOB, VALUES in any order, repeats tolerated.
/// No option means META and BLOB.
pub fn parse_tensorget_format(options: &[&[u8]]) -> Result<GetFormat> {
    if options.is_empty() {
        return Ok(GetFormat {
            meta: true,
            data: Some(DataFormat::Blob),
        });
    }
    let (mut meta, mut blob, mut values) = (false, false, false);
    for option in options {
        if option.eq_ignore_ascii_case(b"META") {
            meta = true;
        } else if option.eq_ignore_ascii_case(b"BLOB") {
            blob = true;
        } else if option.eq_ignore_ascii_case(b"VALUES") {
            values = true;
        } else {
            return Err(Error::UnsupportedFormat);
        }
    }
    let data = match (blob, values) {
        (true, true) => return Err(Error::BlobAndValues),
        (true, false) => Some(DataFormat::Blob),
        (false, true) => Some(DataFormat::Values),
        (false, false) => None,
    };
    Ok(GetFormat { meta, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(cmd: &str) -> Result<Tensor> {
        let argv: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
        parse_tensorset(&argv, || 1 << 20)
    }

    #[test]
    fn tensorset_error_table() {
        use Error::*;
        let table: &[(&str, Error)] = &[
            ("AI.TENSORSET k FLOAT", WrongArity("AI.TENSORSET")),
            ("AI.TENSORSET k FLOAT16 1", InvalidDataType),
            ("AI.TENSORSET k FLOAT abc VALUES 1", InvalidShape),
            ("AI.TENSORSET k FLOAT -1 VALUES 1", InvalidShape),
            ("AI.TENSORSET k FLOAT 0 VALUES 1", InvalidShape),
            ("AI.TENSORSET k FLOAT 2.5", InvalidShape),
            ("AI.TENSORSET k FLOAT 2 META", InvalidShape),
            ("AI.TENSORSET k FLOAT 02 VALUES 1 2", InvalidShape),
            ("AI.TENSORSET k FLOAT 2 VALUES 1", ValuesCount),
            ("AI.TENSORSET k FLOAT 2 VALUES", ValuesCount),
            ("AI.TENSORSET k FLOAT 2 VALUES 1 2 BLOB x", ValuesCount),
            ("AI.TENSORSET k FLOAT 2 BLOB", BlobArgument),
            ("AI.TENSORSET k FLOAT 2 BLOB a b", BlobArgument),
            ("AI.TENSORSET k FLOAT 2 BLOB abcd", DataLength),
            ("AI.TENSORSET k FLOAT 2 VALUES 1 x", InvalidValue),
            ("AI.TENSORSET k INT8 2 VALUES -128 5", InvalidValue),
            ("AI.TENSORSET k FLOAT 1024 1024", TensorTooLarge(1 << 20)),
            (
                "AI.TENSORSET k DOUBLE 4294967296 4294967296 4294967296",
                TensorTooLarge(1 << 20),
            ),
            (
                "AI.TENSORSET k INT8 9223372036854775807 VALUES 1",
                ValuesCount,
            ),
        ];
        for (cmd, err) in table {
            assert_eq!(set(cmd).as_ref().err(), Some(err), "{cmd}");
        }
    }

    #[test]
    fn tensorset_builds() {
        let t = set("AI.TENSORSET k float 2 values 1 2").unwrap();
        assert_eq!((t.dtype(), t.shape()), (DType::Float, &[2i64][..]));
        let t = set("AI.TENSORSET k FLOAT VALUES 3").unwrap();
        assert_eq!(t.shape(), &[] as &[i64]);
        let t = set("AI.TENSORSET k INT32 3").unwrap();
        assert_eq!(t.data(), &[0; 12]);
        let t = set("AI.TENSORSET k UINT8 1 2 BLOB ab").unwrap();
        assert_eq!(t.data(), b"ab");
    }

    #[test]
    fn tensorget_formats() {
        use DataFormat::*;
        let table: &[(&str, Result<GetFormat>)] = &[
            (
                "",
                Ok(GetFormat {
                    meta: true,
                    data: Some(Blob),
                }),
            ),
            (
                "META",
                Ok(GetFormat {
                    meta: true,
                    data: None,
                }),
            ),
            (
                "meta meta",
                Ok(GetFormat {
                    meta: true,
                    data: None,
                }),
            ),
            (
                "BLOB",
                Ok(GetFormat {
                    meta: false,
                    data: Some(Blob),
                }),
            ),
            (
                "VALUES",
                Ok(GetFormat {
                    meta: false,
                    data: Some(Values),
                }),
            ),
            (
                "VALUES META",
                Ok(GetFormat {
                    meta: true,
                    data: Some(Values),
                }),
            ),
            (
                "META BLOB",
                Ok(GetFormat {
                    meta: true,
                    data: Some(Blob),
                }),
            ),
            ("FOO", Err(Error::UnsupportedFormat)),
            ("BLOB VALUES", Err(Error::BlobAndValues)),
        ];
        for (opts, expected) in table {
            let argv: Vec<&[u8]> = opts
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::as_bytes)
                .collect();
            assert_eq!(&parse_tensorget_format(&argv), expected, "{opts}");
        }
        assert_eq!(
            tensorget_arity(&[b"AI.TENSORGET"]),
            Err(Error::WrongArity("AI.TENSORGET"))
        );
        assert_eq!(
            tensorget_arity(&[&b"x"[..]; 5]),
            Err(Error::WrongArity("AI.TENSORGET"))
        );
    }
}
