-- 0014_email_events: what recipients did with a send (issue #11 section 4).
-- The public endpoints record opens and clicks (/t/o/, /t/c/), unsubscribes
-- (/u/, the page's button or an RFC 8058 one-click POST), and the signed
-- webhook records bounces and complaints reported after delivery. Every open
-- and click is kept (a row each); unique opens and clicks are counted per
-- recipient. An unsubscribe is recorded once per recipient. The analytics
-- issue reads this table.

CREATE TABLE email_events (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    send_id       uuid        REFERENCES sends ON DELETE CASCADE,
    recipient_id  uuid        REFERENCES send_recipients (id) ON DELETE CASCADE,
    contact_id    uuid        NOT NULL,
    type          text        NOT NULL CHECK (type IN ('open', 'click', 'unsubscribe', 'bounce', 'complaint')),
    link_index    integer     CHECK (link_index BETWEEN 0 AND 65535),
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    source        text        NOT NULL CHECK (source IN ('tracking', 'one-click', 'page', 'webhook')),
    CONSTRAINT email_events_link CHECK ((type = 'click') = (link_index IS NOT NULL)),
    CONSTRAINT email_events_source CHECK (
        CASE type WHEN 'open' THEN source = 'tracking'
                  WHEN 'click' THEN source = 'tracking'
                  WHEN 'unsubscribe' THEN source IN ('one-click', 'page')
                  ELSE source = 'webhook' END),
    -- what the tracking and unsubscribe routes record always names the recipient row
    CONSTRAINT email_events_recipient CHECK (source = 'webhook' OR (recipient_id IS NOT NULL AND send_id IS NOT NULL))
);
-- per-send counts (send_json): unique recipients per type
CREATE INDEX email_events_send_idx ON email_events (send_id, type, recipient_id);
-- the analytics issue: an owner's events over time
CREATE INDEX email_events_user_time_idx ON email_events (user_id, occurred_at);
-- one unsubscribe per recipient, however often the link is followed
CREATE UNIQUE INDEX email_events_unsubscribe_once ON email_events (recipient_id) WHERE type = 'unsubscribe';

COMMENT ON TABLE email_events IS 'Opens, clicks, unsubscribes (public /t/ and /u/ endpoints) and bounces and complaints (the signed webhook) of sent email. Every open and click is a row; unique opens and clicks are count(DISTINCT recipient_id); an unsubscribe is recorded once per recipient.';
COMMENT ON COLUMN email_events.id IS 'Row identifier.';
COMMENT ON COLUMN email_events.user_id IS 'Owner of the send and the contact.';
COMMENT ON COLUMN email_events.send_id IS 'The send the message belonged to; NULL for a bounce reported by address only (no messageId).';
COMMENT ON COLUMN email_events.recipient_id IS 'The send_recipients row (its id, what the token names); NULL for a bounce reported by address only.';
COMMENT ON COLUMN email_events.contact_id IS 'The contact (contacts.id; not a foreign key, so events outlive a deleted contact).';
COMMENT ON COLUMN email_events.type IS 'open, click, unsubscribe, bounce or complaint (bounces and complaints are never confused: they set contacts.status bounced and complained).';
COMMENT ON COLUMN email_events.link_index IS 'Clicks only: the index of the link in the send''s snapshot (mail_links() of its layout); the URL is looked up from it, never taken from the request.';
COMMENT ON COLUMN email_events.occurred_at IS 'When it happened: the request''s time, or the webhook event''s at.';
COMMENT ON COLUMN email_events.source IS 'tracking (/t/o/, /t/c/), one-click (RFC 8058 POST without the page), page (the button of GET /u/), webhook (POST /api/webhooks/email-events).';

-- Per-send counts now include opened, clicked (unique recipients) and unsubscribed.
CREATE OR REPLACE FUNCTION send_json(s sends) RETURNS json
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
                       'opened', (SELECT count(DISTINCT e.recipient_id) FROM email_events e
                                   WHERE e.send_id = s.id AND e.type = 'open'),
                       'clicked', (SELECT count(DISTINCT e.recipient_id) FROM email_events e
                                    WHERE e.send_id = s.id AND e.type = 'click'),
                       'unsubscribed', (SELECT count(*) FROM email_events e
                                         WHERE e.send_id = s.id AND e.type = 'unsubscribe'))
                     FROM send_recipients r WHERE r.send_id = s.id),
        'jobId', s.job_id,
        'createdAt', rfc3339(s.created_at), 'updatedAt', rfc3339(s.updated_at));
COMMENT ON FUNCTION send_json(sends) IS 'API representation of a send, with live counts from send_recipients and email_events (opened and clicked: unique recipients).';

-- POST /u/TOKEN: unsubscribes the contact a recipient row names (when it
-- still matches the token's send and contact). A subscribed contact becomes
-- unsubscribed; bounced, complained and unsubscribed ones keep their status.
-- The event is recorded once per recipient, when the contact is (now or
-- already) unsubscribed. False when no such recipient or contact exists.
CREATE FUNCTION mail_unsubscribe(recipient uuid, send uuid, contact uuid, how text) RETURNS boolean
    LANGUAGE plpgsql
AS $$
DECLARE
    owner uuid;
    now_status text;
BEGIN
    SELECT s.user_id INTO owner
      FROM send_recipients r JOIN sends s ON s.id = r.send_id
     WHERE r.id = recipient AND r.send_id = send AND r.contact_id = contact;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE contacts c
       SET status = CASE WHEN c.status = 'subscribed' THEN 'unsubscribed' ELSE c.status END,
           updated_at = CASE WHEN c.status = 'subscribed' THEN now() ELSE c.updated_at END
     WHERE c.id = contact AND c.user_id = owner
    RETURNING c.status INTO now_status;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF now_status = 'unsubscribed' THEN
        INSERT INTO email_events (user_id, send_id, recipient_id, contact_id, type, source)
        VALUES (owner, send, recipient, contact, 'unsubscribe', how)
        ON CONFLICT (recipient_id) WHERE type = 'unsubscribe' DO NOTHING;
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION mail_unsubscribe(uuid, uuid, uuid, text) IS 'POST /u/TOKEN: one-click (or page) unsubscribe of the token''s recipient; idempotent.';

-- POST /api/webhooks/email-events: bounces and complaints reported after
-- delivery. events is the request's array of {type, email, messageId?, at}.
-- With messageId: the recipient row with that Message-ID (angle brackets
-- optional) whose address is the event's email (any case) -> its contact.
-- Without: a complaint matches nothing (a complaint must name the message);
-- a bounce matches the contacts with that address (any case) of the owners
-- who have sent to that address (a send_recipients row with it and a sent_at).
-- bounce -> status bounced unless bounced or complained; complaint -> status
-- complained unless complained. An event row is written for every contact
-- whose status changes. Returns {applied, unknown}: events that matched at
-- least one contact, and those that matched none.
CREATE FUNCTION email_events_apply(events jsonb) RETURNS json
    LANGUAGE plpgsql
AS $$
DECLARE
    ev jsonb;
    applied integer := 0;
    unknown integer := 0;
    matched integer;
    msgid text;
    new_status text;
BEGIN
    FOR ev IN SELECT * FROM jsonb_array_elements(events) LOOP
        new_status := CASE ev->>'type' WHEN 'bounce' THEN 'bounced' WHEN 'complaint' THEN 'complained' END;
        msgid := nullif(btrim(ev->>'messageId', '<> '), '');
        WITH targets AS (
            SELECT s.user_id, r.send_id, r.id AS recipient_id, r.contact_id
              FROM send_recipients r JOIN sends s ON s.id = r.send_id
             WHERE msgid IS NOT NULL AND btrim(r.message_id, '<>') = msgid
               AND lower(r.email) = lower(ev->>'email')
            UNION ALL
            SELECT c.user_id, NULL::uuid, NULL::uuid, c.id
              FROM contacts c
             WHERE msgid IS NULL AND ev->>'type' = 'bounce' AND lower(c.email) = lower(ev->>'email')
               AND EXISTS (SELECT FROM send_recipients r JOIN sends s ON s.id = r.send_id
                            WHERE s.user_id = c.user_id AND lower(r.email) = lower(c.email)
                              AND r.sent_at IS NOT NULL)
        ), hit AS (
            SELECT t.*, c.status AS old_status
              FROM targets t JOIN contacts c ON c.id = t.contact_id AND c.user_id = t.user_id
               FOR UPDATE OF c
        ), changed AS (
            UPDATE contacts c SET status = new_status, updated_at = now()
              FROM hit h
             WHERE c.id = h.contact_id
               AND NOT (h.old_status = new_status OR (new_status = 'bounced' AND h.old_status = 'complained'))
            RETURNING h.*
        ), recorded AS (
            INSERT INTO email_events (user_id, send_id, recipient_id, contact_id, type, occurred_at, source)
            SELECT ch.user_id, ch.send_id, ch.recipient_id, ch.contact_id, ev->>'type',
                   coalesce((ev->>'at')::timestamptz, now()), 'webhook'
              FROM changed ch
            RETURNING 1
        )
        SELECT count(*) INTO matched FROM hit;
        IF matched > 0 THEN
            applied := applied + 1;
        ELSE
            unknown := unknown + 1;
        END IF;
    END LOOP;
    RETURN json_build_object('applied', applied, 'unknown', unknown);
END
$$;
COMMENT ON FUNCTION email_events_apply(jsonb) IS 'POST /api/webhooks/email-events: marks contacts bounced or complained (never confused) and records the events; {applied, unknown}.';

REVOKE EXECUTE ON FUNCTION mail_unsubscribe(uuid, uuid, uuid, text), email_events_apply(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mail_unsubscribe(uuid, uuid, uuid, text), email_events_apply(jsonb) TO adcraft_api;

GRANT SELECT, INSERT ON email_events TO adcraft_api;
GRANT SELECT ON email_events TO adcraft_worker, adcraft_analyst;
