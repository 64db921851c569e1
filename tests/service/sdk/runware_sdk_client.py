"""Run with the official `runware-sdk` package on the path (it cannot share an environment with
the older `runware` package: both are the module `runware`). Prints the result items as JSON.

usage: runware_sdk_client.py BASE_URL rest|websocket sync|async OUTPUT_TYPE
"""

import asyncio
import json
import sys

from runware import Runware


async def main(base: str, transport: str, delivery: str, output_type: str) -> None:
    ws_base = base.replace("http://", "ws://") + "/v1"
    async with Runware(api_key="local-key", transport=transport, http_base_url=base + "/v1",
                       ws_base_url=ws_base) as client:
        items = await client.run({"model": "runware:dia2@2b", "taskType": "audioInference",
                                  "speech": {"text": "[S1] Hello from the SDK. [S2] Hi!"}, "seed": 21,
                                  "numberResults": 2, "outputFormat": "MP3", "outputType": output_type,
                                  "deliveryMethod": delivery})
    print(json.dumps(items))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
