-- 0018_assets: image assets (issue #13 section 2). An asset is one owner's
-- record of an image file stored content-addressed under media_dir: the
-- file's name is the sha256 of its (re-encoded, metadata-stripped) bytes, so
-- the same bytes are one file however many owners upload them, and one asset
-- per owner (assets_user_sha256_key). Renditions (thumbnail and social sizes)
-- are made by an asset-renditions job on the data-exports queue and recorded
-- in asset_renditions; until then an asset's renditions are null.
--
-- Files and rows: the API and the worker take a session advisory lock on
-- asset_lock_key(sha256) around "write the file + insert the row" and around
-- "delete the row + unlink files no row names any more", so a file is never
-- unlinked under a row that was just inserted for the same bytes.
--
-- "In use": content items (campaigns.content, JSONB) name an asset by
-- visualAssetId; campaigns_content_idx (jsonb_path_ops GIN, 0002) answers
-- content @> '[{"visualAssetId": "<id>"}]' for asset_delete().

CREATE TABLE assets (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    sha256        text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    filename      text        NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text        NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    path          text        NOT NULL CHECK (path ~ '^[0-9a-f]{2}/[0-9a-f]{64}\.(png|jpg|webp|gif)$'),
    bytes         bigint      NOT NULL CHECK (bytes > 0),
    width         integer     NOT NULL CHECK (width > 0),
    height        integer     NOT NULL CHECK (height > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_user_sha256_key UNIQUE (user_id, sha256)
);
CREATE INDEX assets_user_list_idx ON assets (user_id, created_at DESC, id DESC);
CREATE INDEX assets_sha256_idx ON assets (sha256);
CREATE INDEX assets_path_idx ON assets (path);

COMMENT ON TABLE assets IS 'Image assets: one owner''s record of an image file under media_dir (content-addressed by sha256; the same bytes are one file across owners and one asset per owner).';
COMMENT ON COLUMN assets.id IS 'Public identifier; content items name it as visualAssetId.';
COMMENT ON COLUMN assets.user_id IS 'Owner; every API statement filters on it.';
COMMENT ON COLUMN assets.sha256 IS 'Lower-case hex sha256 of the stored bytes (after re-encoding without metadata), not of the upload.';
COMMENT ON COLUMN assets.filename IS 'The name the client gave the file (or image.<ext>); shown, never used as a path.';
COMMENT ON COLUMN assets.content_type IS 'The type sniffed from the bytes: image/png, image/jpeg, image/webp or image/gif.';
COMMENT ON COLUMN assets.path IS 'File path relative to media_dir: <first two hex digits>/<sha256>.<ext>; the URL is /media/<path>.';
COMMENT ON COLUMN assets.bytes IS 'Size of the stored file; the sum over an owner''s assets is what asset_quota_bytes limits.';
COMMENT ON COLUMN assets.width IS 'Width in pixels.';
COMMENT ON COLUMN assets.height IS 'Height in pixels.';
COMMENT ON COLUMN assets.created_at IS 'Upload time; with id, the list order.';

CREATE TABLE asset_renditions (
    asset_id  uuid    NOT NULL REFERENCES assets ON DELETE CASCADE,
    name      text    NOT NULL CHECK (name IN ('thumbnail', 'social_landscape', 'social_square', 'social_story')),
    sha256    text    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    path      text    NOT NULL CHECK (path ~ '^[0-9a-f]{2}/[0-9a-f]{64}\.(png|jpg|webp|gif)$'),
    bytes     bigint  NOT NULL CHECK (bytes > 0),
    width     integer NOT NULL CHECK (width > 0),
    height    integer NOT NULL CHECK (height > 0),
    PRIMARY KEY (asset_id, name)
);
CREATE INDEX asset_renditions_path_idx ON asset_renditions (path);

COMMENT ON TABLE asset_renditions IS 'Resized copies of an asset made by the asset-renditions job (data-exports queue), stored content-addressed like assets.';
COMMENT ON COLUMN asset_renditions.asset_id IS 'The asset this is a rendition of; deleted with it.';
COMMENT ON COLUMN asset_renditions.name IS 'thumbnail (320 px wide), social_landscape (1200x628), social_square (1080x1080) or social_story (1080x1920, cover crops centred on what draws attention).';
COMMENT ON COLUMN asset_renditions.sha256 IS 'Lower-case hex sha256 of the rendition''s bytes.';
COMMENT ON COLUMN asset_renditions.path IS 'File path relative to media_dir, as assets.path.';
COMMENT ON COLUMN asset_renditions.bytes IS 'Size of the rendition file.';
COMMENT ON COLUMN asset_renditions.width IS 'Width in pixels.';
COMMENT ON COLUMN asset_renditions.height IS 'Height in pixels.';

CREATE FUNCTION asset_lock_key(sha256 text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ('x' || substr(sha256, 1, 16))::bit(64)::bigint;
COMMENT ON FUNCTION asset_lock_key(text) IS 'Advisory lock key of a stored file (its sha256): held around writing a file and inserting its row, and around deleting a row and unlinking what no row names.';

CREATE FUNCTION asset_json(a assets) RETURNS json
    LANGUAGE sql STABLE
AS $$
    SELECT json_build_object('id', a.id, 'filename', a.filename, 'contentType', a.content_type,
        'bytes', a.bytes, 'width', a.width, 'height', a.height, 'sha256', a.sha256,
        'url', '/media/' || a.path,
        'renditions', (SELECT json_object_agg(r.name, json_build_object('url', '/media/' || r.path,
                                 'width', r.width, 'height', r.height, 'bytes', r.bytes, 'sha256', r.sha256))
                         FROM asset_renditions r WHERE r.asset_id = a.id),
        'createdAt', rfc3339(a.created_at))
$$;
COMMENT ON FUNCTION asset_json(assets) IS 'API representation of an asset (docs/media.md); renditions is null until the asset-renditions job has run.';

-- Stores an asset row for owner within the quota, or finds the owner's asset
-- with the same bytes. The owner's uploads are serialised (transaction-level
-- advisory lock) so two at once cannot both pass the quota.
CREATE FUNCTION asset_store(owner uuid, digest text, name text, ctype text, file text, size bigint,
                            w integer, h integer, quota bigint)
    RETURNS TABLE (asset json, created boolean, used bigint)
    LANGUAGE plpgsql
AS $$
DECLARE
    a assets;
    total bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('adcraft.asset_quota'), hashtext(owner::text));
    SELECT coalesce(sum(x.bytes), 0) INTO total FROM assets x WHERE x.user_id = owner;
    SELECT * INTO a FROM assets WHERE user_id = owner AND sha256 = digest;
    IF FOUND THEN
        RETURN QUERY SELECT asset_json(a), false, total;
        RETURN;
    END IF;
    IF quota > 0 AND total + size > quota THEN
        RETURN QUERY SELECT NULL::json, false, total;
        RETURN;
    END IF;
    INSERT INTO assets (user_id, sha256, filename, content_type, path, bytes, width, height)
    VALUES (owner, digest, name, ctype, file, size, w, h) RETURNING * INTO a;
    INSERT INTO jobs (queue, kind, payload, user_id, max_attempts)
    VALUES ('data-exports', 'asset-renditions', jsonb_build_object('assetId', a.id), owner, 3);
    RETURN QUERY SELECT asset_json(a), true, total;
END
$$;
COMMENT ON FUNCTION asset_store(uuid, text, text, text, text, bigint, integer, integer, bigint) IS
    'Inserts an asset and queues its asset-renditions job, or returns the owner''s existing asset with these bytes (created false), or, over quota (> 0), no asset; used is the owner''s stored bytes before this call.';

-- Deletes one asset of owner unless a content item names it. Returns the
-- status (404, 409, 204) and, for 204, the files (paths under media_dir) no
-- remaining row names: the caller unlinks them while still holding
-- asset_lock_key of the asset's sha256.
CREATE FUNCTION asset_delete(owner uuid, asset uuid)
    RETURNS TABLE (status integer, files text[])
    LANGUAGE plpgsql
AS $$
DECLARE
    a assets;
    candidates text[];
BEGIN
    SELECT * INTO a FROM assets WHERE id = asset AND user_id = owner;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, NULL::text[];
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM campaigns c WHERE c.user_id = owner
                 AND c.content @> jsonb_build_array(jsonb_build_object('visualAssetId', asset::text))) THEN
        RETURN QUERY SELECT 409, NULL::text[];
        RETURN;
    END IF;
    SELECT array_agg(r.path) || a.path INTO candidates FROM asset_renditions r WHERE r.asset_id = a.id;
    DELETE FROM assets WHERE id = a.id;
    RETURN QUERY SELECT 204, coalesce(array_agg(f), '{}') FROM unnest(candidates) f
                  WHERE NOT EXISTS (SELECT 1 FROM assets x WHERE x.path = f)
                    AND NOT EXISTS (SELECT 1 FROM asset_renditions x WHERE x.path = f);
END
$$;
COMMENT ON FUNCTION asset_delete(uuid, uuid) IS
    'Deletes an owner''s asset unless a content item''s visualAssetId names it: (204, files no row names any more), (404, NULL) or (409, NULL).';

------------------------------------------------------------------------------
-- grants (as in 0007_security: exactly what each role's statements use)
------------------------------------------------------------------------------
GRANT SELECT, INSERT, DELETE ON assets TO adcraft_api;            -- upload, list, delete
GRANT SELECT ON asset_renditions TO adcraft_api;                  -- asset_json, asset_delete (the cascade runs as the table owner)

GRANT SELECT, INSERT ON assets TO adcraft_worker;                 -- asset-renditions job; generated visuals (asset_store)
GRANT SELECT, INSERT, DELETE ON asset_renditions TO adcraft_worker; -- renditions replaced on a retry

GRANT SELECT ON assets, asset_renditions TO adcraft_analyst;

REVOKE EXECUTE ON FUNCTION asset_store(uuid, text, text, text, text, bigint, integer, integer, bigint),
                           asset_delete(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION asset_store(uuid, text, text, text, text, bigint, integer, integer, bigint)
    TO adcraft_api, adcraft_worker;                               -- uploads; generated visuals in the worker
GRANT EXECUTE ON FUNCTION asset_delete(uuid, uuid) TO adcraft_api;
