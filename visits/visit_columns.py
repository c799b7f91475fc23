"""The columns every visit listing returns (the board, the API, the log), shared by the query modules."""

from __future__ import annotations

# The columns of a visit as every listing returns them: the row, its planned minutes, its carers (as
# id/name objects), its tasks and the flags of its events (from the few flagged ones, migration 0021's
# partial index), so one query serves the board and the API.
VISIT_COLUMNS = """
    v.id, v.home_id, v.organisation_id, v.plan_id, v.plan_visit_id, v.service_type, v.local_date,
    v.planned_start, v.planned_end, v.carers_required, v.required_skills, v.status, v.status_reason,
    v.checked_in_at, v.checked_out_at, v.check_in_method, v.check_out_method,
    (extract(epoch FROM v.planned_end - v.planned_start) / 60)::int AS planned_minutes,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('id', u.id, 'name', u.name) ORDER BY u.name)
              FROM visit_assignments a JOIN users u ON u.id = a.carer_id WHERE a.visit_id = v.id),
             '[]') AS carers,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('task', t.task, 'status', t.status, 'note', t.note,
                                                  'recorded_at', t.recorded_at) ORDER BY t.position)
              FROM visit_tasks t WHERE t.visit_id = v.id), '[]') AS tasks,
    COALESCE((SELECT array_agg(DISTINCT f) FROM visit_events e, unnest(e.flags) f
              WHERE e.visit_id = v.id AND e.flags <> '{}'), '{}') AS flags
"""

ASSIGNED = "EXISTS (SELECT 1 FROM visit_assignments a WHERE a.visit_id = v.id AND a.carer_id = ${})"

# The same as JSON text (carers, tasks) for a route that writes them into its response as they are,
# instead of decoding jsonb into Python and encoding it again (the board, asked for every few seconds).
VISIT_COLUMNS_TEXT = (
    VISIT_COLUMNS.replace("jsonb_agg", "json_agg")
    .replace("jsonb_build_object", "json_build_object")
    .replace("'[]')", "'[]'::json)::text")
)
