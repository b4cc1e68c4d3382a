"""Retrieval for RAG, inside Redis: ingest documents, then find the top-k for a question.

Each document is one AI.DAGEXECUTE (its vector, VADD into a vector set with the text as an
attribute), all of them sent in one pipeline, so the server batches their encoder runs; each
question is one AI.DAGEXECUTE_RO (its vector, VSIM top-k with scores and texts). Needs Redis 8
(vector sets) with the module and ONNX loaded:

    python examples/rag.py --port 6379
"""
import json

from common import connect, embed_then, ensure_embedder

INDEX = "rag:docs"
DOCUMENTS = [
    "Redis Streams let producers append events that consumers read in order.",
    "Vector sets store embeddings and answer similarity queries with VSIM.",
    "The Eiffel Tower is in Paris and was completed in 1889.",
    "Mean pooling averages token embeddings where the attention mask is set.",
    "Dogs were domesticated from wolves thousands of years ago.",
    "ONNX Runtime executes models exported from PyTorch and TensorFlow.",
    "A semantic cache returns a stored answer when a new prompt means the same.",
    "Mount Everest is the highest mountain above sea level.",
]


def ingest(r, documents):
    pipe = r.pipeline(transaction=False)
    for i, text in enumerate(documents):
        attributes = json.dumps({"text": text})
        pipe.execute_command(
            "AI.DAGEXECUTE", "ROUTING", INDEX,
            *embed_then(text, "|>", "AI.VADD", INDEX, "v", f"doc:{i}", "SETATTR", attributes),
        )
    pipe.execute()


def retrieve(r, question, k=3):
    """[(score, document)] of the k nearest documents, best first."""
    reply = r.execute_command(
        "AI.DAGEXECUTE_RO", "ROUTING", INDEX,
        *embed_then(question, "|>", "AI.VSIM", INDEX, "v", "COUNT", str(k), "WITHSCORES", "WITHATTRIBS"),
    )
    hits = reply[2]
    return [(float(hits[i + 1]), json.loads(hits[i + 2])["text"]) for i in range(0, len(hits), 3)]


def main():
    r, args = connect(__doc__.splitlines()[0])
    ensure_embedder(r, args)
    r.delete(INDEX)
    ingest(r, DOCUMENTS)
    for question in ["Where is the Eiffel Tower?", "How do I search embeddings?", "What is the tallest mountain?"]:
        print(question)
        for score, text in retrieve(r, question):
            print(f"  {score:.3f}  {text}")


if __name__ == "__main__":
    main()
