-- One signature: a one-row insert with its indexes, committed on its own (what the database must take per signer).
\set n random(1, 1000000000000)
INSERT INTO sig (petition_id, status, title, first_name, last_name, email, email_normalized, address, city, state,
    zip_code, country, phone, note, language, letter_hash, letter_text, wants_updates, ip_hash, ip_prefix_hash,
    quarantine_reason, created_at)
VALUES (1, 'pending', 'Ms.', 'Ada', 'Bench', 's' || :n || '@bench.example.org', 's' || :n || '@bench.example.org',
    '1007 Grand Ave', 'Des Moines', 'IA', '50309', 'United States', '', '', 'be', md5(:n::text) || md5(:n::text),
    repeat('The letter as the signer saw it. ', 80), false, md5(:n::text) || md5(:n::text),
    md5(:n::text) || md5(:n::text), '', now())
ON CONFLICT DO NOTHING;
