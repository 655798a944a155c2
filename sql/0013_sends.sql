-- 0013_sends: email sends with an approval gate (issue #11 section 2). A send
-- snapshots one email item of a campaign and the sender identity when it is
-- created; nothing is delivered to a list before someone approves it.
-- Approval fixes the recipients (the list's members at that moment, one row
-- each, suppressed contacts marked so) and queues the delivery job on the
-- email-sending queue.

-- target of sends' same-owner foreign key
ALTER TABLE campaigns ADD CONSTRAINT campaigns_user_id_id_key UNIQUE (user_id, id);

CREATE TABLE sends (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    campaign_id    uuid        NOT NULL,
    content_id     uuid        NOT NULL,
    list_id        uuid,
    status         text        NOT NULL DEFAULT 'pending_approval'
        CHECK (status IN ('pending_approval', 'approved', 'scheduled', 'sending', 'paused', 'sent',
                          'cancelled', 'failed')),
    snapshot       jsonb       NOT NULL CHECK (jsonb_typeof(snapshot) = 'object'),
    snapshot_hash  text        NOT NULL CHECK (snapshot_hash ~ '^[0-9a-f]{64}$'),
    from_name      text        NOT NULL CHECK (length(from_name) <= 200),
    from_email     text        NOT NULL CHECK (length(from_email) BETWEEN 3 AND 254),
    reply_to       text        CHECK (length(reply_to) <= 254),
    scheduled_at   timestamptz,
    approved_at    timestamptz,
    approved_by    uuid        REFERENCES users ON DELETE SET NULL,
    pause_reason   text        CHECK (length(pause_reason) <= 500),
    job_id         uuid,
    finished_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id),
    CONSTRAINT sends_campaign_fkey FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id)
        ON DELETE CASCADE,
    CONSTRAINT sends_list_fkey FOREIGN KEY (user_id, list_id) REFERENCES lists (user_id, id)
        ON DELETE SET NULL (list_id),
    -- the approval gate, in the table: nothing past pending_approval without an approval
    CONSTRAINT sends_approved CHECK (status IN ('pending_approval', 'cancelled') OR approved_at IS NOT NULL),
    CONSTRAINT sends_pending_unapproved CHECK (status <> 'pending_approval' OR approved_at IS NULL)
);
CREATE INDEX sends_campaign_idx ON sends (campaign_id, created_at DESC, id DESC);
CREATE INDEX sends_user_idx ON sends (user_id, created_at DESC, id DESC);

COMMENT ON TABLE sends IS 'One delivery of one email item of a campaign to one list. Created pending_approval with a snapshot of the item and the sender; approve fixes the recipients and queues the email-sending job. Editing the content item afterwards changes nothing here.';
COMMENT ON COLUMN sends.id IS 'Public identifier.';
COMMENT ON COLUMN sends.user_id IS 'Owner (the campaign''s); every API statement filters on it.';
COMMENT ON COLUMN sends.campaign_id IS 'The campaign the item belongs to.';
COMMENT ON COLUMN sends.content_id IS 'The email item (campaigns.content[].id) the snapshot was taken from.';
COMMENT ON COLUMN sends.list_id IS 'The list it goes to; NULL when the list was deleted (recipients already fixed stay).';
COMMENT ON COLUMN sends.status IS 'pending_approval -> approved (or scheduled, with a future scheduled_at) -> sending -> sent; paused and resumed by the owner or paused by the worker after repeated failures (pause_reason); cancelled by the owner before it ends; failed when it cannot go on.';
COMMENT ON COLUMN sends.snapshot IS 'What will be delivered: {subjectLine, preheader, contentBody, callToAction, ...} of the item when the send was created.';
COMMENT ON COLUMN sends.snapshot_hash IS 'SHA-256 (hex) of snapshot::text: what the approver approved.';
COMMENT ON COLUMN sends.from_name IS 'Sender display name (configuration mail_from_name when created).';
COMMENT ON COLUMN sends.from_email IS 'Sender address (configuration mail_from when created).';
COMMENT ON COLUMN sends.reply_to IS 'Reply-To address, if any.';
COMMENT ON COLUMN sends.scheduled_at IS 'When delivery may start (NULL: as soon as approved).';
COMMENT ON COLUMN sends.approved_at IS 'When it was approved; set exactly once.';
COMMENT ON COLUMN sends.approved_by IS 'Who approved it.';
COMMENT ON COLUMN sends.pause_reason IS 'Why it is paused (the owner, or the worker after consecutive failures).';
COMMENT ON COLUMN sends.job_id IS 'The email-sending job that delivers it (jobs.id).';
COMMENT ON COLUMN sends.finished_at IS 'When it reached sent, cancelled or failed.';
COMMENT ON COLUMN sends.created_at IS 'When it was created; with id, the list order.';
COMMENT ON COLUMN sends.updated_at IS 'Last change of status or approval.';

CREATE TABLE send_recipients (
    id               uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    send_id          uuid        NOT NULL REFERENCES sends ON DELETE CASCADE,
    contact_id       uuid        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    email            text        NOT NULL,
    status           text        NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'bounced', 'suppressed')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error       text        CHECK (length(last_error) <= 1000),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_by        text,
    sent_at          timestamptz,
    message_id       text,
    PRIMARY KEY (send_id, contact_id)
);
CREATE INDEX send_recipients_due_idx ON send_recipients (send_id, next_attempt_at)
    WHERE status IN ('queued', 'deferred');
CREATE INDEX send_recipients_contact_idx ON send_recipients (contact_id);
CREATE INDEX send_recipients_list_idx ON send_recipients (send_id, created_at DESC, contact_id DESC);

COMMENT ON TABLE send_recipients IS 'One row per contact a send goes to, fixed at approval. The worker claims due rows in batches (FOR UPDATE SKIP LOCKED) and records each outcome; a recipient is delivered at most once (docs/sending.md).';
COMMENT ON COLUMN send_recipients.id IS 'The recipient''s own id: what unsubscribe, open and click tokens name.';
COMMENT ON COLUMN send_recipients.send_id IS 'The send.';
COMMENT ON COLUMN send_recipients.contact_id IS 'The contact (contacts.id; not a foreign key, so the record outlives a deleted contact).';
COMMENT ON COLUMN send_recipients.created_at IS 'When the row was made (the approval); with contact_id, the list order.';
COMMENT ON COLUMN send_recipients.email IS 'The address at approval time.';
COMMENT ON COLUMN send_recipients.status IS 'queued, sending (claimed by a worker: locked_by), sent, deferred (a 4xx or a connection failure: retried at next_attempt_at), failed, bounced (a 5xx: the contact is marked bounced) or suppressed (the contact was not subscribed).';
COMMENT ON COLUMN send_recipients.attempts IS 'Delivery attempts so far.';
COMMENT ON COLUMN send_recipients.last_error IS 'The last SMTP reply or error.';
COMMENT ON COLUMN send_recipients.next_attempt_at IS 'When a queued or deferred recipient is due.';
COMMENT ON COLUMN send_recipients.locked_by IS 'The worker (host:pid:nonce) delivering it while status is sending.';
COMMENT ON COLUMN send_recipients.sent_at IS 'When the SMTP server accepted the message.';
COMMENT ON COLUMN send_recipients.message_id IS 'The Message-ID header of the delivered message.';

-- The API representation, counts included.
CREATE FUNCTION send_json(s sends) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN json_build_object(
        'id', s.id, 'campaignId', s.campaign_id, 'contentId', s.content_id, 'listId', s.list_id,
        'abTestId', NULL, 'status', s.status,
        'subject', s.snapshot->>'subjectLine', 'preheader', s.snapshot->>'preheader',
        'fromName', s.from_name, 'fromEmail', s.from_email, 'replyTo', s.reply_to,
        'scheduledAt', rfc3339(s.scheduled_at), 'approvedAt', rfc3339(s.approved_at), 'approvedBy', s.approved_by,
        'snapshotHash', s.snapshot_hash, 'pauseReason', s.pause_reason,
        'counts', (SELECT json_build_object(
                       'recipients', count(*),
                       'queued', count(*) FILTER (WHERE r.status IN ('queued', 'sending')),
                       'sent', count(*) FILTER (WHERE r.status = 'sent'),
                       'deferred', count(*) FILTER (WHERE r.status = 'deferred'),
                       'failed', count(*) FILTER (WHERE r.status = 'failed'),
                       'bounced', count(*) FILTER (WHERE r.status = 'bounced'),
                       'suppressed', count(*) FILTER (WHERE r.status = 'suppressed'),
                       'opened', 0, 'clicked', 0, 'unsubscribed', 0)
                     FROM send_recipients r WHERE r.send_id = s.id),
        'jobId', s.job_id,
        'createdAt', rfc3339(s.created_at), 'updatedAt', rfc3339(s.updated_at));
COMMENT ON FUNCTION send_json(sends) IS 'API representation of a send, with live counts from send_recipients.';

-- Creates a send from an email item of the owner's campaign: NULL when the
-- campaign is not the owner's; raises ACS01 when the item is missing, ACS02
-- when it is not an email, 23503 (sends_list_fkey) when the list is not the owner's.
CREATE FUNCTION send_create(owner uuid, campaign uuid, content uuid, list uuid, scheduled timestamptz,
                            sender_name text, sender_email text, sender_reply_to text)
    RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    c campaigns;
    item jsonb;
    s sends;
BEGIN
    SELECT * INTO c FROM campaigns WHERE id = campaign AND user_id = owner;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT e INTO item FROM jsonb_array_elements(c.content) e WHERE e->>'id' = content::text;
    IF item IS NULL THEN
        RAISE EXCEPTION 'no such content item in this campaign' USING ERRCODE = 'ACS01';
    END IF;
    IF item->>'contentType' <> 'email' THEN
        RAISE EXCEPTION 'the content item is not an email' USING ERRCODE = 'ACS02';
    END IF;
    INSERT INTO sends (user_id, campaign_id, content_id, list_id, snapshot, snapshot_hash, from_name, from_email,
                       reply_to, scheduled_at)
    VALUES (owner, campaign, content, list, item, encode(sha256(convert_to(item::text, 'UTF8')), 'hex'),
            sender_name, sender_email, sender_reply_to, scheduled)
    RETURNING * INTO s;
    RETURN send_json(s);
END
$$;
COMMENT ON FUNCTION send_create(uuid, uuid, uuid, uuid, timestamptz, text, text, text) IS 'POST /api/campaigns/:id/sends: snapshots the email item and the sender into a new pending_approval send.';

-- Approves a pending send: records who and when, fixes the recipients (the
-- list's members now; contacts that are not subscribed are suppressed) and
-- queues the delivery job (at scheduled_at when it is in the future). NULL
-- when the send is not the owner's; raises 55000 (object_not_in_prerequisite_state)
-- unless it is pending_approval, ACS03 when its list is gone.
CREATE FUNCTION send_approve(owner uuid, send uuid) RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    s sends;
    job uuid;
BEGIN
    SELECT * INTO s FROM sends WHERE id = send AND user_id = owner FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF s.status <> 'pending_approval' THEN
        RAISE EXCEPTION 'the send is %, not pending_approval', s.status USING ERRCODE = '55000';
    END IF;
    IF s.list_id IS NULL THEN
        RAISE EXCEPTION 'the list was deleted' USING ERRCODE = 'ACS03';
    END IF;
    INSERT INTO send_recipients (send_id, contact_id, email, status, last_error)
    SELECT s.id, c.id, c.email,
           CASE WHEN c.status = 'subscribed' THEN 'queued' ELSE 'suppressed' END,
           CASE WHEN c.status = 'subscribed' THEN NULL ELSE 'contact is ' || c.status END
      FROM list_members m JOIN contacts c ON c.id = m.contact_id AND c.user_id = m.user_id
     WHERE m.list_id = s.list_id AND m.user_id = owner;
    INSERT INTO jobs (queue, kind, payload, user_id, campaign_id, run_at)
    VALUES ('email-sending', 'deliver-send', jsonb_build_object('sendId', s.id), owner, s.campaign_id,
            greatest(coalesce(s.scheduled_at, now()), now()))
    RETURNING id INTO job;
    UPDATE sends
       SET status = CASE WHEN s.scheduled_at > now() THEN 'scheduled' ELSE 'approved' END,
           approved_at = now(), approved_by = owner, job_id = job, updated_at = now()
     WHERE id = s.id
    RETURNING * INTO s;
    RETURN send_json(s);
END
$$;
COMMENT ON FUNCTION send_approve(uuid, uuid) IS 'POST /api/sends/:id/approve: the approval gate (who, when, the snapshot''s hash stays as approved), the recipients, and the email-sending job.';

-- The owner's status changes: pause (approved, scheduled, sending -> paused),
-- resume (paused -> sending, re-queueing the job), cancel (anything not ended
-- -> cancelled; queued recipients are left undelivered). NULL when not the
-- owner's; raises 55000 when the move is not allowed.
CREATE FUNCTION send_control(owner uuid, send uuid, action text) RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    s sends;
    allowed text[];
    job uuid;
BEGIN
    SELECT * INTO s FROM sends WHERE id = send AND user_id = owner FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    allowed := CASE action
        WHEN 'pause' THEN ARRAY['approved', 'scheduled', 'sending']
        WHEN 'resume' THEN ARRAY['paused']
        WHEN 'cancel' THEN ARRAY['pending_approval', 'approved', 'scheduled', 'sending', 'paused']
    END;
    IF allowed IS NULL THEN
        RAISE EXCEPTION 'unknown action %', action USING ERRCODE = '22023';
    END IF;
    IF NOT s.status = ANY (allowed) THEN
        RAISE EXCEPTION 'a % send cannot %', s.status, action USING ERRCODE = '55000';
    END IF;
    IF action = 'resume' THEN
        INSERT INTO jobs (queue, kind, payload, user_id, campaign_id)
        VALUES ('email-sending', 'deliver-send', jsonb_build_object('sendId', s.id), owner, s.campaign_id)
        RETURNING id INTO job;
        UPDATE sends SET status = 'sending', pause_reason = NULL, job_id = job, updated_at = now()
         WHERE id = s.id RETURNING * INTO s;
    ELSE
        UPDATE sends
           SET status = CASE action WHEN 'pause' THEN 'paused' ELSE 'cancelled' END,
               pause_reason = CASE action WHEN 'pause' THEN 'paused by its owner' ELSE pause_reason END,
               finished_at = CASE action WHEN 'cancel' THEN now() ELSE finished_at END,
               updated_at = now()
         WHERE id = s.id RETURNING * INTO s;
    END IF;
    RETURN send_json(s);
END
$$;
COMMENT ON FUNCTION send_control(uuid, uuid, text) IS 'POST /api/sends/:id/pause|resume|cancel.';

GRANT SELECT, INSERT, UPDATE ON sends TO adcraft_api;
GRANT SELECT ON send_recipients TO adcraft_api;
GRANT INSERT ON send_recipients TO adcraft_api;             -- send_approve() runs as the caller
GRANT SELECT, UPDATE ON sends, send_recipients TO adcraft_worker;
GRANT INSERT ON jobs TO adcraft_worker;                     -- follow-up deliver-send jobs for deferred recipients
GRANT SELECT ON sends, send_recipients TO adcraft_analyst;
