"""`verify:` confirming verdicts from outside.

``anonymous: true`` makes every scan try, for each public verdict, one unauthenticated list (or read) of the
resource at the cloud's public endpoint (the configured emulator endpoint in tests): the answer is recorded on the
finding as evidence ("anonymous LIST returned 200 at ..."), and an answer that disagrees with the analysis is
flagged, never used to change the verdict. Off by default: it sends a request from the scanner's network to each
public resource.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cloudwatchdog.settings.base import StrictModel


class VerifyConfig(StrictModel):
    anonymous: bool = False
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0  # seconds for one probe
