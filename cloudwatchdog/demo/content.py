"""Fake content for the demo estate's objects and blobs: what a leaked file of each kind typically holds, all of it
made up (names, VINs, e-mail addresses on example.com). Deterministic: the same bytes every time.

In the estate files an object's content is text, ``!!binary`` bytes, or one of these generators by name::

    objects:
      exports/customers.csv: {fake: customer_csv, batch: 18, rows: 12}
      2025/brochure.pdf: {fake: pdf, title: C3 brochure}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from cloudwatchdog.settings.base import StrictModel

_FIRST = ("Anna", "Jonas", "Lea", "Mehmet", "Sofia", "Lukas", "Emma", "Piotr", "Chloe", "Marco", "Ines", "Tomas")
_LAST = ("Berger", "Novak", "Schmidt", "Rossi", "Dubois", "Yilmaz", "Lindqvist", "Kowalski", "Moreau", "Garcia")
_CITIES = ("Munich", "Lyon", "Turin", "Gdansk", "Malmo", "Porto", "Graz", "Leipzig", "Ghent", "Brno")
_MODELS = ("Velora C3", "Velora Estate", "Velora EV-S", "Velora Crossline")


def customer_csv(batch: int, rows: int = 25) -> bytes:
    """Fake customer telematics rows: VIN, name, e-mail, phone, city, model, odometer, last GPS position."""
    lines = ["vin,first_name,last_name,email,phone,city,model,odometer_km,last_gps_lat,last_gps_lon"]
    for i in range(rows):
        n = batch * 1000 + i
        first, last = _FIRST[n % len(_FIRST)], _LAST[(n * 7) % len(_LAST)]
        vin = f"WVL{(n * 7919) % 10**14:014d}"
        lines.append(
            f"{vin},{first},{last},{first.lower()}.{last.lower()}{n % 97}@example.com,"
            f"+49 555 {(n * 104729) % 10**7:07d},{_CITIES[n % len(_CITIES)]},{_MODELS[n % len(_MODELS)]},"
            f"{(n * 3571) % 240000},{48 + (n % 500) / 1000:.3f},{11 + (n % 700) / 1000:.3f}"
        )
    return ("\n".join(lines) + "\n").encode()


def pdf(title: str) -> bytes:
    """A stand-in PDF that says what it would be."""
    return f"%PDF-1.4\n% Velora Motors - {title} (fake)\n".encode()


class CustomerCsv(StrictModel):
    fake: Literal["customer_csv"]
    batch: int  # a different batch, different customers
    rows: Annotated[int, Field(ge=1, le=10_000)] = 25


class Pdf(StrictModel):
    fake: Literal["pdf"]
    title: str


def _kind(value: Any) -> str | None:
    """The alternative ``value`` is meant as (tags with a dash: error locations leave them out)."""
    if isinstance(value, str | bytes):
        return f"content-{type(value).__name__}"
    if isinstance(value, CustomerCsv | Pdf):
        return f"fake-{value.fake}"
    return f"fake-{value.get('fake')}" if isinstance(value, dict) else None


# An object's content in an estate file: text (stored as UTF-8), bytes (``!!binary``), or generated. One error for
# a mistake, not one per alternative.
Content = Annotated[
    Annotated[str, Tag("content-str")] | Annotated[bytes, Tag("content-bytes")]
    | Annotated[CustomerCsv, Tag("fake-customer_csv")] | Annotated[Pdf, Tag("fake-pdf")],
    Discriminator(_kind, custom_error_type="content",
                  custom_error_message="an object's content is text, !!binary bytes, {fake: customer_csv, batch: N, "
                                       "rows: N} or {fake: pdf, title: T}"),
]


def render(content: Content) -> bytes:
    """The bytes of one object."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, CustomerCsv):
        return customer_csv(content.batch, content.rows)
    return pdf(content.title)


__all__ = ["Content", "customer_csv", "pdf", "render"]
