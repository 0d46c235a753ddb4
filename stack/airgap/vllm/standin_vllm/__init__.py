"""vLLM stand-in: vLLM's OpenAI-compatible server as far as the stack uses it, answered by llama.cpp's own OpenAI
server (llama-cpp-python) over the SmolLM2-135M-Instruct stand-in weights. It is NOT vLLM, and says so."""
