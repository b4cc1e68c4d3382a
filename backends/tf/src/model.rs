//! A TF model: a frozen `GraphDef`, its named input placeholders and output operations, and one
//! session that every run shares.
//!
//! Concurrency: TensorFlow's `Session::Run` is thread-safe, so several workers (THREADS_PER_QUEUE,
//! several queues) run one model at once on its single session, without locks.

use redisai_backend_api::plugin::PluginModel;
use redisai_backend_api::{OutputTensor, TensorRef};

use crate::ffi::TF_Output;
use crate::tensors::{to_input, to_output};
use crate::tf::{Graph, Session, Tensor};

/// The op type input nodes must have.
const PLACEHOLDER: &str = "Placeholder";

/// Outputs of the model's graph (port 0 of the named operations).
struct Ports(Vec<TF_Output>);

// SAFETY: the operations belong to the model's graph, which the model's session owns, never
// changes and outlives the ports (both are fields of the same model); TensorFlow only reads them.
unsafe impl Send for Ports {}
// SAFETY: as above.
unsafe impl Sync for Ports {}

/// A model of the TF backend.
pub struct TfModel {
    inputs: Vec<String>,
    outputs: Vec<String>,
    feeds: Ports,
    fetches: Ports,
    session: Session,
}

impl TfModel {
    /// Imports `graph_def` and checks the node names, with RedisAI's replies:
    /// `ERR Input node named "<n>" not found in TF graph.` when an input is not a placeholder,
    /// `ERR Output node named "<n>" not found in TF graph` when an output is not an operation.
    pub(crate) fn new(
        graph_def: &[u8],
        inputs: &[String],
        outputs: &[String],
        config: &[u8],
    ) -> Result<TfModel, String> {
        let graph = Graph::import(graph_def)?;
        // Before any session exists: nothing of the graph has run yet.
        crate::graph_check::check(&graph)?;
        let mut feeds = Vec::with_capacity(inputs.len());
        for name in inputs {
            match graph.operation(name) {
                Some(op) if op.op_type == PLACEHOLDER => feeds.push(op.output),
                _ => {
                    return Err(format!(
                        "ERR Input node named \"{name}\" not found in TF graph."
                    ))
                }
            }
        }
        let mut fetches = Vec::with_capacity(outputs.len());
        for name in outputs {
            match graph.operation(name) {
                Some(op) => fetches.push(op.output),
                None => {
                    return Err(format!(
                        "ERR Output node named \"{name}\" not found in TF graph"
                    ))
                }
            }
        }
        let session = Session::new(graph, config)?;
        Ok(TfModel {
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            feeds: Ports(feeds),
            fetches: Ports(fetches),
            session,
        })
    }
}

impl PluginModel for TfModel {
    fn inputs(&self) -> &[String] {
        &self.inputs
    }

    fn outputs(&self) -> &[String] {
        &self.outputs
    }

    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<OutputTensor>>, String> {
        if inputs.len() != self.inputs.len() {
            return Err(format!(
                "ERR Expected {} inputs but got {}",
                self.inputs.len(),
                inputs.len()
            ));
        }
        // Bound by position: input i feeds the placeholder named by INPUTS i.
        let tensors = inputs
            .iter()
            .map(to_input)
            .collect::<Result<Vec<Tensor>, String>>()?;
        let produced = self
            .session
            .run(&self.feeds.0, &tensors, &self.fetches.0)
            .map_err(crate::alloc::run_error)?;
        drop(tensors);
        produced
            .into_iter()
            .map(|t| to_output(t).map(Some))
            .collect()
    }
}
