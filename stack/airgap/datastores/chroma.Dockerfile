# ChromaDB's own server as the official chromadb/chroma image runs it with no command: persisting to /data on
# port 8000, bash on PATH (the production healthcheck opens /dev/tcp/127.0.0.1/8000). From PyPI's chromadb.
ARG BASE=stackgate/datastores:airgap
FROM ${BASE}
RUN mkdir -p /data
VOLUME /data
EXPOSE 8000
LABEL org.stackgate.role="chromadb (official image's contract: default command, /data, port 8000)"
ENTRYPOINT ["/usr/bin/tini", "--", "chroma-entrypoint.sh"]
