//! Model backends, as named in commands and encoded in RDB.

/// The four RedisAI backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Tf,
    TfLite,
    Torch,
    Onnx,
}

impl Backend {
    /// Every backend, in RDB code order.
    pub const ALL: [Backend; 4] = [Backend::Tf, Backend::TfLite, Backend::Torch, Backend::Onnx];

    /// Parses a backend name case-insensitively (`TF`, `TFLITE`, `TORCH`, `ONNX`).
    pub fn parse(name: &[u8]) -> Option<Backend> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// The name RedisAI replies with.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Tf => "TF",
            Backend::TfLite => "TFLITE",
            Backend::Torch => "TORCH",
            Backend::Onnx => "ONNX",
        }
    }

    /// RDB code (0 TF, 1 TFLITE, 2 TORCH, 3 ONNX).
    pub fn code(self) -> u64 {
        self as u64
    }

    /// The backend of an RDB code; `None` for an unknown code.
    pub fn from_code(code: u64) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.code() == code)
    }

    /// Default plugin path relative to BACKENDSPATH.
    pub fn default_library(self) -> &'static str {
        match self {
            Backend::Tf => "redisai_tensorflow/redisai_tensorflow.so",
            Backend::TfLite => "redisai_tflite/redisai_tflite.so",
            Backend::Torch => "redisai_torch/redisai_torch.so",
            Backend::Onnx => "redisai_onnxruntime/redisai_onnxruntime.so",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes() {
        for (i, b) in Backend::ALL.into_iter().enumerate() {
            assert_eq!(b.code(), i as u64);
            assert_eq!(Backend::from_code(i as u64), Some(b));
            assert_eq!(Backend::parse(b.name().to_lowercase().as_bytes()), Some(b));
        }
        assert_eq!(Backend::parse(b"PYTORCH"), None);
        assert_eq!(Backend::from_code(4), None);
    }
}
