"""Shared by the examples: connecting, and storing the tokenizer, the encoder model and the
embedder once. The client only sends files and commands; every token, vector and search is
computed inside Redis."""
import argparse
import os

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(ROOT, "tests/fixtures/embeddings/tokenizer.json")
MODEL = os.path.join(ROOT, ".build/models/minilm/model.onnx")


def connect(description):
    """Parses --host/--port/--socket (and the model files) and returns (client, args)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--socket", help="unix socket path (instead of host/port)")
    parser.add_argument("--tokenizer", default=TOKENIZER, help="a Hugging Face tokenizer.json")
    parser.add_argument("--model", default=MODEL, help="the encoder, an ONNX file")
    args = parser.parse_args()
    if args.socket:
        r = redis.Redis(unix_socket_path=args.socket)
    else:
        r = redis.Redis(host=args.host, port=args.port)
    return r, args


EMBEDDER = "embedder"


def ensure_embedder(r, args):
    """Stores the tokenizer, the model and the embedder unless they are there already."""
    name = EMBEDDER
    if r.exists(name):
        return
    with open(args.tokenizer, "rb") as f:
        r.execute_command("AI.TOKENIZERSTORE", f"{name}:tokenizer", "BLOB", f.read())
    with open(args.model, "rb") as f:
        r.execute_command("AI.MODELSTORE", f"{name}:model", "ONNX", "CPU", "BLOB", f.read())
    r.execute_command(
        "AI.EMBEDDERSTORE", name, "TOKENIZER", f"{name}:tokenizer",
        "MODEL", f"{name}:model", "POOLING", "MEAN", "NORMALIZE",
    )


def embed_then(text, *ops):
    """The ops of one DAG: the text as a STRING tensor, its vector `v`, then `ops`."""
    return [
        "|>", "AI.TENSORSET", "text", "STRING", "1", "VALUES", text,
        "|>", "AI.EMBED", EMBEDDER, "INPUTS", "1", "text", "OUTPUTS", "1", "v",
        *ops,
    ]
