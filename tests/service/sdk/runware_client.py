"""Run with the official older `runware` package (WebSocket only) on the path. Prints the
result items as JSON.  usage: runware_client.py WS_URL sync|async NUMBER_RESULTS"""

import asyncio
import json
import sys
from dataclasses import asdict

from runware import IAudioInference, IAudioSpeech, Runware


async def main(url: str, delivery: str, number_results: str) -> None:
    client = Runware(api_key="local-key", url=url)
    await client.connect()
    request = IAudioInference(model="runware:dia2@2b", speech=IAudioSpeech(text="[S1] Hello from the old SDK."),
                              numberResults=int(number_results), outputFormat="MP3", deliveryMethod=delivery,
                              seed=31)
    results = await client.audioInference(requestAudio=request)
    if delivery == "async":
        results = await client.getResponse(results.taskUUID, numberResults=int(number_results))
    print(json.dumps([asdict(item) for item in results]))
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
