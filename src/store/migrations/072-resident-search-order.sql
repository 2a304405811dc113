-- The counter's search by part of a name within a municipality (issue 12, docs/scale.md) lists residents in
-- the order the register entered them: by registration time, then by their first event. That order came
-- from a subquery per resident found, so every search read, looked up and sorted all the matches in the
-- municipality before it could show the first twenty (at 5 M residents: 8 % of its rate with an empty
-- register). The first event's id is now kept on the resident, set when that event is appended, and an
-- index in the search's order lets a search read the municipality's residents in order and stop after the
-- page it shows.
ALTER TABLE residents ADD COLUMN first_event_id {{BIGINT}};
UPDATE residents SET first_event_id = (SELECT MIN(e.id) FROM resident_events e WHERE e.resident_id = residents.id);
CREATE INDEX residents_search ON residents (municipality, registered_at, first_event_id, id);
