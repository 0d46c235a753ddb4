"""What the stack shows: requests the manifest declares (`requests`) and their round-trips (`roundtrip`), access
logs (`accesslog`) and routing, recovery, isolation, replicas, the browser, documents, compose-file and security
checks, API conformance (`ollama`, `openai_api`) and the backends behind each Ollama (`backends`)."""
