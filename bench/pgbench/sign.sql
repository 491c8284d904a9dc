-- The sign view's transaction: look for this address, insert the signature and its three recipients, commit.
\set n random(1, 1000000000000)
BEGIN;
SELECT id FROM sig WHERE petition_id = 1 AND email_normalized = 't' || :n || '@bench.example.org' FOR UPDATE;
INSERT INTO sig (petition_id, status, title, first_name, last_name, email, email_normalized, address, city, state,
    zip_code, country, phone, note, language, letter_hash, letter_text, wants_updates, ip_hash, ip_prefix_hash,
    quarantine_reason, created_at)
VALUES (1, 'pending', 'Ms.', 'Ada', 'Bench', 't' || :n || '@bench.example.org', 't' || :n || '@bench.example.org',
    '1007 Grand Ave', 'Des Moines', 'IA', '50309', 'United States', '', '', 'be', md5(:n::text) || md5(:n::text),
    repeat('The letter as the signer saw it. ', 80), false, md5(:n::text) || md5(:n::text),
    md5(:n::text) || md5(:n::text), '', now())
ON CONFLICT DO NOTHING;
INSERT INTO sig_recipients (signature_id, recipient_id)
SELECT currval('sig_id_seq'), r FROM unnest(ARRAY[1, 2, 3]) AS r ON CONFLICT DO NOTHING;
COMMIT;
