# azd postdeploy hook (Windows). Event Grid accepts a subscription to the privateEndpointEvents function only once
# the function exists, that is after the first code deployment. The first `azd up` therefore provisions without
# event subscriptions; this hook then switches them on and provisions once more. Later deployments find the switch
# on and do nothing.
$ErrorActionPreference = 'Stop'

if ($env:PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED -eq 'true') {
    exit 0
}

Write-Host 'privateEndpointEvents is deployed: creating the Event Grid subscriptions of every watched subscription.'
azd env set PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED true
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

# The Functions host can take a moment to publish the new function to ARM; Event Grid checks it exists.
for ($attempt = 1; $attempt -le 3; $attempt++) {
    azd provision --no-prompt
    if ($LASTEXITCODE -eq 0) { exit 0 }
    if ($attempt -lt 3) {
        Write-Host "Retrying in 60 seconds (attempt $($attempt + 1) of 3)."
        Start-Sleep -Seconds 60
    }
}
Write-Error "Event Grid subscriptions not created yet: run 'azd provision' again in a few minutes."
exit 1
