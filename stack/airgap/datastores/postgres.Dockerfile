# PostgreSQL as the official postgres image runs it: `docker-entrypoint.sh postgres` by default, POSTGRES_* honoured,
# data in PGDATA, pg_isready on PATH. Built from Debian's packages (the data stores image), nothing pulled.
ARG BASE=stackgate/datastores:airgap
FROM ${BASE}
RUN ln -s /usr/local/bin/postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
LABEL org.stackgate.role="postgres (official image's contract: entrypoint, command, POSTGRES_*, PGDATA)"
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
