-- 0008_events: real-time events (issue #9). Every event published to an
-- nchan channel carries a sequence number that increases by one per channel.
-- nginx keeps its message buffer in memory and loses it on a restart; the
-- numbers live here, so a client can always tell that it missed something.

CREATE TABLE event_channels (
    channel        text        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id    uuid        REFERENCES campaigns (id) ON DELETE CASCADE,
    seq            bigint      NOT NULL CHECK (seq >= 1),
    last_event_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_channels_name CHECK (channel = CASE WHEN campaign_id IS NULL THEN 'user.' || user_id
                                                         ELSE 'campaign.' || campaign_id END)
);
CREATE INDEX event_channels_campaign_idx ON event_channels (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX event_channels_user_idx ON event_channels (user_id);

COMMENT ON TABLE event_channels IS 'One row per nchan channel that has carried an event: the last sequence number used. A publisher takes the next number with an upsert and holds the row lock until its message is in nginx, so the messages of a channel reach nginx in seq order. Rows go with their user or campaign.';
COMMENT ON COLUMN event_channels.channel IS 'The nchan channel id: user.<users.id> (the owner''s channel: job:* events, notifications) or campaign.<campaigns.id> (campaign:generation:* and content:generation:* events).';
COMMENT ON COLUMN event_channels.user_id IS 'The owner: the channel''s user, or the campaign''s owner.';
COMMENT ON COLUMN event_channels.campaign_id IS 'The campaign of a campaign channel; NULL for a user channel.';
COMMENT ON COLUMN event_channels.seq IS 'The seq of the last event published on the channel (the first is 1). Never reset: after nginx loses its buffer, clients detect the gap by seq and refetch over REST.';
COMMENT ON COLUMN event_channels.last_event_at IS 'When the last event was published.';

GRANT SELECT, INSERT, UPDATE ON event_channels TO adcraft_api, adcraft_worker;
GRANT SELECT ON event_channels TO adcraft_analyst;
