"""Token ids of texts as Python's `tokenizers` gives them (the reference for tests/embeddings.rs).

Usage: tokenize_reference.py <tokenizer.json> <maxlen>; reads a JSON list of texts on stdin and
prints a JSON list of id lists: special tokens added, truncated at maxlen, no padding (the
tokenizer file's own truncation and padding are replaced, as the module does).
"""
import json
import sys

from tokenizers import Tokenizer

tokenizer = Tokenizer.from_file(sys.argv[1])
tokenizer.enable_truncation(max_length=int(sys.argv[2]))
tokenizer.no_padding()
texts = json.load(sys.stdin)
print(json.dumps([tokenizer.encode(t).ids for t in texts]))
