"""Schemathesis hooks of the suite (loaded through SCHEMATHESIS_HOOKS by test/e2e/schemathesis.spec.ts).

One extra check, `zod_agrees_with_document`: a request that schemathesis generated as valid for the
OpenAPI document must never be answered `422 validation_failed`, the code of the server's own zod
validation. Since the document is generated from those zod schemas, such an answer means the two
disagree (a refinement the JSON Schema does not express, a coercion, a strictness difference).
Domain rejections of schema-valid requests keep their own codes (dimension_mismatch, unknown_items,
...), which is why positive_data_acceptance also accepts 422 in schemathesis.toml.
"""
import schemathesis


@schemathesis.check
def zod_agrees_with_document(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        body = response.json()
    except Exception:
        return None
    if isinstance(body, dict) and body.get("code") == "validation_failed":
        raise AssertionError(
            "A request valid for the OpenAPI document was rejected by the server's zod validation "
            f"(422 validation_failed): {body.get('errors')}"
        )
    return None
