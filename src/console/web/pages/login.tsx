// Login: the console is bound to a non-loopback address, so it asks for its token and keeps a session cookie.

import { ActionGroup, Alert, Button, Card, CardBody, CardTitle, Form, FormGroup, TextInput } from '@patternfly/react-core';
import { useState } from 'react';
import { api } from '../api';

export function LoginPage({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const submit = async (e?: { preventDefault(): void }) => {
    e?.preventDefault();
    try {
      await api.login(token);
      onLoggedIn();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="trellis-login">
      <Card>
        <CardTitle>Trellis console: log in</CardTitle>
        <CardBody>
          <Form onSubmit={submit}>
            {error ? <Alert variant="danger" isInline title={error} /> : null}
            <FormGroup label="Token" fieldId="token" isRequired>
              <TextInput id="token" type="password" value={token} onChange={(_e, v) => setToken(v)} data-test="token" />
            </FormGroup>
            <ActionGroup>
              <Button type="submit" variant="primary" data-test="login">
                Log in
              </Button>
            </ActionGroup>
          </Form>
        </CardBody>
      </Card>
    </div>
  );
}
