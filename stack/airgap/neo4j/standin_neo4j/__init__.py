"""Neo4j stand-in: Neo4j's HTTP API (discovery + transactional Cypher) over embedded FalkorDB.

It is NOT Neo4j: discovery reports the edition as a stand-in. Queries run on a real graph engine.
"""

VERSION = "5.26.0-standin"
EDITION = "stackgate stand-in (FalkorDB engine, not Neo4j)"
