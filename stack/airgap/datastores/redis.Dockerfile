# Redis as the official redis image runs it: `docker-entrypoint.sh redis-server` by default, any command's
# arguments passed through, protected mode off, data in /data (its working directory), redis-cli on PATH.
ARG BASE=stackgate/datastores:airgap
FROM ${BASE}
RUN ln -s /usr/local/bin/redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh && mkdir -p /data
WORKDIR /data
VOLUME /data
EXPOSE 6379
LABEL org.stackgate.role="redis (official image's contract: entrypoint, command, /data)"
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
