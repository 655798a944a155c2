-- 0001_foundation: roles, users, refresh tokens, and the JSON shapes the API returns.
--
-- Applied by `adcraft migrate` inside one transaction. Roles are cluster-wide,
-- so they are created only when missing.

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
        ('adcraft_owner',   false, 'Owns adcraft''s schema objects; never logs in.'),
        ('adcraft_api',     true,  'adcraft-api processes: reads and writes application tables.'),
        ('adcraft_worker',  true,  'adcraft-worker processes: job queue and generated content.'),
        ('adcraft_analyst', true,  'Read-only role for analysts and DBAs: tables and views, no secrets.')
    ) AS t(name, login, about)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r.name) THEN
            EXECUTE format('CREATE ROLE %I %s', r.name, CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
        END IF;
        EXECUTE format('COMMENT ON ROLE %I IS %L', r.name, r.about);
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO adcraft_api, adcraft_worker, adcraft_analyst;

-- Timestamps leave the database as RFC 3339 in UTC, whatever the session's TimeZone.
CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
COMMENT ON FUNCTION rfc3339(timestamptz) IS 'Formats a timestamp as RFC 3339 UTC with milliseconds, as the API returns it.';

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = btrim(email)),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

COMMENT ON TABLE users IS 'Accounts. One row per person who signs in; every campaign, persona and job belongs to one.';
COMMENT ON COLUMN users.id IS 'Public identifier (UUID), the JWT subject.';
COMMENT ON COLUMN users.email IS 'Sign-in address as entered; unique case-insensitively (users_email_key on lower(email)).';
COMMENT ON COLUMN users.name IS 'Display name, 1 to 200 characters.';
COMMENT ON COLUMN users.password_hash IS 'argon2id PHC string (m >= 19 MiB, t >= 2, p = 1). Never exposed to the analyst role.';
COMMENT ON COLUMN users.created_at IS 'When the account was registered.';
COMMENT ON COLUMN users.updated_at IS 'When the account row last changed.';

CREATE TABLE refresh_tokens (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    family_id   uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

COMMENT ON TABLE refresh_tokens IS 'Opaque refresh tokens, stored as SHA-256 hashes. Each use rotates the token within its family; presenting a used token revokes the whole family (stolen-token detection).';
COMMENT ON COLUMN refresh_tokens.id IS 'Row identifier.';
COMMENT ON COLUMN refresh_tokens.user_id IS 'Owner of the session.';
COMMENT ON COLUMN refresh_tokens.family_id IS 'One sign-in: every token rotated from the same login shares it.';
COMMENT ON COLUMN refresh_tokens.token_hash IS 'sha256 of the token text; the token itself is never stored.';
COMMENT ON COLUMN refresh_tokens.created_at IS 'When the token was issued.';
COMMENT ON COLUMN refresh_tokens.expires_at IS 'After this the token is refused.';
COMMENT ON COLUMN refresh_tokens.used_at IS 'When the token was exchanged for a new pair; a second use is reuse.';
COMMENT ON COLUMN refresh_tokens.revoked_at IS 'When the token (by logout or reuse detection) stopped being accepted.';

-- The user as the API shows it.
CREATE FUNCTION user_json(u users) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object('id', u.id, 'email', u.email, 'name', u.name, 'createdAt', rfc3339(u.created_at));
COMMENT ON FUNCTION user_json(users) IS 'API representation of a user: {id, email, name, createdAt}.';

CREATE FUNCTION token_digest(token text) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN sha256(convert_to(token, 'UTF8'));
COMMENT ON FUNCTION token_digest(text) IS 'How refresh tokens are stored: sha256 of their UTF-8 text.';

-- Exchanges a refresh token for a new one in the same family, in one round trip.
-- outcome: ok | unknown | expired | revoked | reused (reuse revokes the family).
CREATE FUNCTION auth_rotate_refresh(old_token text, new_token text, ttl_seconds integer,
                                    OUT outcome text, OUT user_id uuid, OUT user_json json)
    LANGUAGE plpgsql
AS $$
DECLARE
    t refresh_tokens;
BEGIN
    SELECT * INTO t FROM refresh_tokens WHERE token_hash = token_digest(old_token) FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'unknown';
    ELSIF t.revoked_at IS NOT NULL THEN
        outcome := 'revoked';
    ELSIF t.used_at IS NOT NULL THEN
        UPDATE refresh_tokens SET revoked_at = now()
         WHERE family_id = t.family_id AND revoked_at IS NULL;
        outcome := 'reused';
    ELSIF t.expires_at <= now() THEN
        outcome := 'expired';
    ELSE
        UPDATE refresh_tokens SET used_at = now() WHERE id = t.id;
        INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
        VALUES (t.user_id, t.family_id, token_digest(new_token), now() + make_interval(secs => ttl_seconds));
        SELECT 'ok', u.id, user_json(u) INTO outcome, user_id, user_json FROM users u WHERE u.id = t.user_id;
    END IF;
END
$$;
COMMENT ON FUNCTION auth_rotate_refresh(text, text, integer) IS
    'Refresh-token rotation: marks the presented token used and issues new_token in its family; a used token revokes the family.';

GRANT SELECT, INSERT, UPDATE, DELETE ON users, refresh_tokens TO adcraft_api;
GRANT SELECT (id, email, name, created_at, updated_at) ON users TO adcraft_worker, adcraft_analyst;
