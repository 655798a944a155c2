-- 0012_contacts: contacts, lists and their members, and the staging rows of
-- CSV imports (issue #11 section 1). Every row has an owner; list members
-- point at a list and a contact of the same owner (composite foreign keys,
-- as campaigns point at personas). Sends (a later migration) read these.

CREATE FUNCTION contact_search_text(email text, first_name text, last_name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN email || ' ' || first_name || ' ' || last_name;
COMMENT ON FUNCTION contact_search_text(text, text, text) IS 'What GET /api/contacts?q= searches (ILIKE, substring): email, first and last name, space separated; indexed by contacts_search_trgm_idx.';

CREATE TABLE contacts (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    email              text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    first_name         text        NOT NULL DEFAULT '' CHECK (length(first_name) <= 200),
    last_name          text        NOT NULL DEFAULT '' CHECK (length(last_name) <= 200),
    attributes         jsonb       NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(attributes) = 'object' AND pg_column_size(attributes) <= 65536),
    status             text        NOT NULL DEFAULT 'subscribed'
        CHECK (status IN ('subscribed', 'unsubscribed', 'bounced', 'complained')),
    consent_source     text        CHECK (length(consent_source) <= 200),
    consent_at         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id)  -- target of list_members' same-owner foreign key
);
CREATE UNIQUE INDEX contacts_user_email_key ON contacts (user_id, lower(email));
CREATE INDEX contacts_user_list_idx ON contacts (user_id, created_at DESC, id DESC);
CREATE INDEX contacts_user_status_idx ON contacts (user_id, status, created_at DESC, id DESC);
-- ?q=: a substring of "email first_name last_name" (contact_search_text), any case
CREATE INDEX contacts_search_trgm_idx ON contacts USING gin (contact_search_text(email, first_name, last_name) gin_trgm_ops);

COMMENT ON TABLE contacts IS 'People email can be sent to, with their subscription status and merge fields. Owned by one user; the email is unique per owner, case-insensitively (contacts_user_email_key).';
COMMENT ON COLUMN contacts.id IS 'Public identifier.';
COMMENT ON COLUMN contacts.user_id IS 'Owner; every API statement filters on it.';
COMMENT ON COLUMN contacts.email IS 'Address as entered (case kept); unique per owner ignoring case.';
COMMENT ON COLUMN contacts.first_name IS 'Merge field {{firstName}}; empty when unknown.';
COMMENT ON COLUMN contacts.last_name IS 'Merge field {{lastName}}; empty when unknown.';
COMMENT ON COLUMN contacts.attributes IS 'Further merge fields: a JSON object of scalar values (CSV import columns other than email and names land here).';
COMMENT ON COLUMN contacts.status IS 'subscribed (may be mailed), unsubscribed, bounced (hard bounce) or complained (spam complaint); only subscribed contacts are ever mailed. An import never changes it.';
COMMENT ON COLUMN contacts.consent_source IS 'Where the consent to mail came from (a form, "import", an event), free text.';
COMMENT ON COLUMN contacts.consent_at IS 'When that consent was given, if known.';
COMMENT ON COLUMN contacts.created_at IS 'Creation time; with id, the list order.';
COMMENT ON COLUMN contacts.updated_at IS 'Last change.';
COMMENT ON COLUMN contacts.status_changed_at IS 'When status last changed (contacts_status_changed trigger).';

CREATE FUNCTION contact_status_changed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.status_changed_at := now();
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION contact_status_changed() IS 'Trigger function: a contact whose status changes gets status_changed_at = now().';
CREATE TRIGGER contacts_status_changed BEFORE UPDATE OF status ON contacts
    FOR EACH ROW EXECUTE FUNCTION contact_status_changed();

CREATE FUNCTION contact_json(c contacts) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', c.id, 'email', c.email, 'firstName', c.first_name, 'lastName', c.last_name,
        'attributes', c.attributes, 'status', c.status, 'consentSource', c.consent_source,
        'consentAt', rfc3339(c.consent_at), 'statusChangedAt', rfc3339(c.status_changed_at),
        'createdAt', rfc3339(c.created_at), 'updatedAt', rfc3339(c.updated_at));
COMMENT ON FUNCTION contact_json(contacts) IS 'API representation of a contact.';

------------------------------------------------------------------------------
-- lists and members
------------------------------------------------------------------------------
CREATE TABLE lists (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description  text        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id)  -- target of list_members' and imports' same-owner foreign keys
);
CREATE INDEX lists_user_list_idx ON lists (user_id, created_at DESC, id DESC);

COMMENT ON TABLE lists IS 'Named sets of contacts that a send goes to. Owned by one user.';
COMMENT ON COLUMN lists.id IS 'Public identifier.';
COMMENT ON COLUMN lists.user_id IS 'Owner; every API statement filters on it.';
COMMENT ON COLUMN lists.name IS 'Short label, 1 to 200 characters.';
COMMENT ON COLUMN lists.description IS 'What the list is for, free text.';
COMMENT ON COLUMN lists.created_at IS 'Creation time; with id, the list order.';
COMMENT ON COLUMN lists.updated_at IS 'Last change of name or description.';

CREATE TABLE list_members (
    list_id     uuid        NOT NULL,
    contact_id  uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, contact_id),
    -- both ends belong to the same owner; deleting either removes the membership
    CONSTRAINT list_members_list_fkey FOREIGN KEY (user_id, list_id) REFERENCES lists (user_id, id) ON DELETE CASCADE,
    CONSTRAINT list_members_contact_fkey FOREIGN KEY (user_id, contact_id)
        REFERENCES contacts (user_id, id) ON DELETE CASCADE
);
CREATE INDEX list_members_contact_idx ON list_members (contact_id);

COMMENT ON TABLE list_members IS 'Which contacts are on which list (many to many, same owner on both ends).';
COMMENT ON COLUMN list_members.list_id IS 'The list.';
COMMENT ON COLUMN list_members.contact_id IS 'The contact on it.';
COMMENT ON COLUMN list_members.user_id IS 'Owner of both the list and the contact (enforced by the two foreign keys).';
COMMENT ON COLUMN list_members.added_at IS 'When the contact was put on the list.';

CREATE FUNCTION list_json(l lists) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', l.id, 'name', l.name, 'description', l.description,
        'contactCount', (SELECT count(*) FROM list_members m WHERE m.list_id = l.id),
        'createdAt', rfc3339(l.created_at), 'updatedAt', rfc3339(l.updated_at));
COMMENT ON FUNCTION list_json(lists) IS 'API representation of a list, with its member count.';

------------------------------------------------------------------------------
-- CSV imports
------------------------------------------------------------------------------
CREATE TABLE contact_imports (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    list_id     uuid,
    body        text        NOT NULL CHECK (octet_length(body) <= 20971520),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contact_imports_list_fkey FOREIGN KEY (user_id, list_id) REFERENCES lists (user_id, id)
        ON DELETE CASCADE
);
CREATE INDEX contact_imports_list_idx ON contact_imports (list_id) WHERE list_id IS NOT NULL;

COMMENT ON TABLE contact_imports IS 'CSV uploads of POST /api/contacts/import waiting for their import-contacts job (data-exports queue); the job deletes the row in the transaction that loads the contacts.';
COMMENT ON COLUMN contact_imports.id IS 'Referenced by the job payload (importId).';
COMMENT ON COLUMN contact_imports.user_id IS 'Owner of the upload and of the contacts it makes.';
COMMENT ON COLUMN contact_imports.list_id IS 'List (same owner) the imported contacts are added to, optional; deleting the list deletes the pending import.';
COMMENT ON COLUMN contact_imports.body IS 'The CSV as uploaded (UTF-8, at most 20 MiB).';
COMMENT ON COLUMN contact_imports.created_at IS 'Upload time.';

-- Loads the rows the worker copied into the session's temporary table
-- contact_import_rows (made by contact_import_begin) for one import: drops
-- repeated addresses (the first line wins; the others are returned), inserts
-- new contacts as subscribed with consent source "import", updates names (when
-- the line has one) and merges attributes of existing ones - never their status -,
-- puts every loaded contact on the list, and deletes the staging row. Runs in
-- the caller's transaction, so an import is loaded entirely or not at all.
CREATE FUNCTION contact_import_begin() RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    CREATE TEMPORARY TABLE contact_import_rows (
        line        bigint NOT NULL,
        email       text   NOT NULL,
        first_name  text,
        last_name   text,
        attributes  jsonb  NOT NULL
    ) ON COMMIT DROP;
END
$$;
COMMENT ON FUNCTION contact_import_begin() IS 'Makes the transaction''s temporary table contact_import_rows that the import-contacts job COPYs the valid CSV lines into.';

CREATE FUNCTION contact_import_apply(import uuid, owner uuid) RETURNS jsonb
    LANGUAGE plpgsql
AS $$
DECLARE
    target uuid;
    repeats jsonb;
    counts record;
BEGIN
    SELECT i.list_id INTO target FROM contact_imports i WHERE i.id = import AND i.user_id = owner FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    WITH d AS (SELECT r.line, min(r.line) OVER (PARTITION BY lower(r.email)) AS first_line
                 FROM pg_temp.contact_import_rows r),
         gone AS (DELETE FROM pg_temp.contact_import_rows r USING d
                   WHERE r.line = d.line AND d.line <> d.first_line
               RETURNING d.line, d.first_line)
    SELECT coalesce(jsonb_agg(jsonb_build_object('line', g.line, 'firstLine', g.first_line) ORDER BY g.line), '[]')
      INTO repeats FROM gone g;

    WITH up AS (
        INSERT INTO contacts AS c (user_id, email, first_name, last_name, attributes, consent_source, consent_at)
        SELECT owner, r.email, coalesce(r.first_name, ''), coalesce(r.last_name, ''), r.attributes, 'import', now()
          FROM pg_temp.contact_import_rows r
         ORDER BY r.line
        ON CONFLICT (user_id, lower(email)) DO UPDATE
           SET first_name = CASE WHEN excluded.first_name <> '' THEN excluded.first_name ELSE c.first_name END,
               last_name = CASE WHEN excluded.last_name <> '' THEN excluded.last_name ELSE c.last_name END,
               attributes = c.attributes || excluded.attributes,
               updated_at = now()
        RETURNING c.id, (c.xmax = 0) AS inserted
    ), member AS (
        INSERT INTO list_members (list_id, contact_id, user_id)
        SELECT target, up.id, owner FROM up WHERE target IS NOT NULL
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) FILTER (WHERE up.inserted) AS imported, count(*) FILTER (WHERE NOT up.inserted) AS updated
      INTO counts FROM up;

    DELETE FROM contact_imports WHERE id = import;
    RETURN jsonb_build_object('imported', counts.imported, 'updated', counts.updated, 'repeats', repeats);
END
$$;
COMMENT ON FUNCTION contact_import_apply(uuid, uuid) IS 'Loads contact_import_rows for one import of owner in the caller''s transaction: {imported, updated, repeats: [{line, firstLine}]}, or NULL when the staging row is gone. Never changes an existing contact''s status.';

------------------------------------------------------------------------------
-- grants (as in 0007_security: exactly what each role's statements use)
------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON contacts, lists TO adcraft_api;
GRANT SELECT, INSERT, DELETE ON list_members TO adcraft_api;
GRANT SELECT, INSERT ON contact_imports TO adcraft_api;              -- upload (RETURNING reads it)

GRANT SELECT, INSERT, UPDATE ON contacts TO adcraft_worker;          -- import upsert
GRANT SELECT, INSERT ON list_members TO adcraft_worker;              -- import adds to the list
GRANT SELECT, UPDATE, DELETE ON contact_imports TO adcraft_worker;   -- read, lock, delete when loaded

GRANT SELECT ON contacts, lists, list_members TO adcraft_analyst;

REVOKE EXECUTE ON FUNCTION contact_import_begin(), contact_import_apply(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION contact_import_begin(), contact_import_apply(uuid, uuid) TO adcraft_worker;
