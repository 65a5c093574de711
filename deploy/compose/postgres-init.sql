-- One database per service (ARCHITECTURE.md, Data); the compose file points each at its own.
CREATE DATABASE activity_ingest;
CREATE DATABASE credit_ledger;
CREATE DATABASE tier_engine;
CREATE DATABASE capacity;
CREATE DATABASE partner_portal;
