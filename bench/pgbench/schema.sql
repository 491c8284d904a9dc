-- A table shaped like petitions_signature, with its indexes, for pgbench (bench/pgbench/run.sh).
DROP TABLE IF EXISTS sig_recipients;
DROP TABLE IF EXISTS sig;
CREATE TABLE sig (
    id bigserial PRIMARY KEY,
    petition_id bigint NOT NULL,
    status varchar(12) NOT NULL,
    title varchar(5) NOT NULL,
    first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL,
    email varchar(254) NOT NULL,
    email_normalized varchar(254) NOT NULL,
    address varchar(200) NOT NULL,
    city varchar(100) NOT NULL,
    state varchar(2) NOT NULL,
    zip_code varchar(20) NOT NULL,
    country varchar(100) NOT NULL,
    phone varchar(30) NOT NULL,
    note text NOT NULL,
    language varchar(2) NOT NULL,
    letter_hash varchar(64) NOT NULL,
    letter_text text NOT NULL,
    wants_updates boolean NOT NULL,
    ip_hash varchar(64) NOT NULL,
    ip_prefix_hash varchar(64) NOT NULL,
    quarantine_reason varchar(20) NOT NULL,
    created_at timestamptz NOT NULL,
    confirmation_sent_at timestamptz,
    confirmed_at timestamptz,
    withdrawn_at timestamptz
);
CREATE UNIQUE INDEX sig_one_per_email ON sig (petition_id, email_normalized) WHERE email_normalized <> '';
CREATE INDEX sig_email ON sig (email_normalized);
CREATE INDEX sig_prefix ON sig (ip_prefix_hash);
CREATE INDEX sig_created ON sig (created_at);
CREATE INDEX sig_status ON sig (petition_id, status);
CREATE INDEX sig_state ON sig (petition_id, status, state);
CREATE INDEX sig_day ON sig (petition_id, status, confirmed_at);
CREATE TABLE sig_recipients (id bigserial PRIMARY KEY, signature_id bigint NOT NULL, recipient_id bigint NOT NULL);
CREATE UNIQUE INDEX sig_recipients_pair ON sig_recipients (signature_id, recipient_id);
