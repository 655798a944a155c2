-- 0019_image_usage: images requests (llm_images_model) are recorded and limited like text calls.
--
-- Each request to {llm_base_url}/images/generations reserves the images
-- model's price for one image against the owner's money limits before it
-- starts (llm_reserve with 0 tokens) and, once made, becomes one llm_usage
-- row: purpose 'image', model = llm_images_model, 0 tokens, cost = the price
-- of one image from the configuration key llm_image_prices (like
-- llm_prices, prices live in the configuration, not in the database; NULL
-- when the model has none). Builtin cards are free and never recorded.
-- A reservation may now hold no tokens (an image holds only money);
-- llm_reserve, llm_usage_status and the usage insert need no change: an
-- image row carries its cost and no tokens, and every sum already counts
-- cost and tokens of non-builtin rows.

ALTER TABLE llm_usage DROP CONSTRAINT llm_usage_purpose_check;
ALTER TABLE llm_usage ADD CONSTRAINT llm_usage_purpose_check CHECK (purpose IN ('generate', 'repair', 'image'));

COMMENT ON COLUMN llm_usage.purpose IS 'generate, repair (the one "shorten" request after an over-long answer), or image (one request to the images endpoint for an item''s visual, llm_images_model; since 0019).';
COMMENT ON COLUMN llm_usage.model IS 'Model name sent to the provider (builtin: "builtin"; purpose image: llm_images_model).';
COMMENT ON COLUMN llm_usage.cost IS 'What the call cost, in currency: prompt_tokens and completion_tokens at the configured price of model per million tokens (llm_prices), or for purpose image the configured price of one image (llm_image_prices), when the row was written; 0 for builtin calls; NULL when the model had no price (rows written before 0011 too).';
COMMENT ON COLUMN llm_usage.prompt_tokens IS 'Input tokens the provider reported (purpose image: 0, images are priced per image).';
COMMENT ON COLUMN llm_usage.content_type IS 'What was being written (purpose image: the content type of the item the visual is for).';
COMMENT ON COLUMN llm_usage.outcome IS 'ok, retry (retryable error), error, refused, length (cut off), schema (broke the schema), timeout, cancelled. Purpose image: ok (a stored image), error (an error answer or an image that was refused), timeout or cancelled.';
ALTER TABLE llm_reservations DROP CONSTRAINT llm_reservations_tokens_check;
ALTER TABLE llm_reservations ADD CONSTRAINT llm_reservations_tokens_check CHECK (tokens >= 0);

COMMENT ON COLUMN llm_reservations.tokens IS 'The estimate held (llm_token_estimate); 0 for an images request, which holds only money.';
COMMENT ON COLUMN llm_reservations.cost IS 'The money held: llm_token_estimate tokens at the higher of the model''s input and output prices, or for an images request the price of one image (0 tokens held).';
