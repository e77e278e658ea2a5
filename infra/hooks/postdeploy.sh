#!/bin/sh
# azd postdeploy hook. Event Grid accepts a subscription to the privateEndpointEvents function only once the
# function exists, that is after the first code deployment. The first `azd up` therefore provisions without event
# subscriptions; this hook then switches them on and provisions once more. Later deployments find the switch on
# and do nothing.
set -eu

if [ "${PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED:-false}" = "true" ]; then
  exit 0
fi

echo "privateEndpointEvents is deployed: creating the Event Grid subscriptions of every watched subscription."
azd env set PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED true

# The Functions host can take a moment to publish the new function to ARM; Event Grid checks it exists.
attempt=1
until azd provision --no-prompt; do
  if [ "$attempt" -ge 3 ]; then
    echo "Event Grid subscriptions not created yet: run 'azd provision' again in a few minutes." >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  echo "Retrying in 60 seconds (attempt $attempt of 3)."
  sleep 60
done
