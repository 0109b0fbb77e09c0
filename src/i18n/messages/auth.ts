import type { MessageCatalog } from './index.js'

const messages: MessageCatalog = {
  en: {
    'auth.login.title': 'Log in',
    'auth.login.email': 'E-mail',
    'auth.login.password': 'Password',
    'auth.login.submit': 'Log in',
    'auth.login.failed': 'Wrong e-mail or password.',
    'auth.login.required': 'Please log in to continue.',
    'auth.logout.done': 'You have logged out.',
    'auth.password.title': 'Change password',
    'auth.password.current': 'Current password',
    'auth.password.new': 'New password',
    'auth.password.confirm': 'Repeat the new password',
    'auth.password.submit': 'Change password',
    'auth.password.wrongCurrent': 'The current password is wrong.',
    'auth.password.tooShort': 'Use at least {min} characters.',
    'auth.password.mismatch': 'The two new passwords differ.',
    'auth.password.changed': 'Your password has been changed.',
    'auth.locale.title': 'Language',
    'auth.locale.saved': 'Language saved.',
    'auth.locale.auto': 'As my browser says'
  },
  'pt-BR': {
    'auth.login.title': 'Entrar',
    'auth.login.email': 'E-mail',
    'auth.login.password': 'Senha',
    'auth.login.submit': 'Entrar',
    'auth.login.failed': 'E-mail ou senha incorretos.',
    'auth.login.required': 'Entre para continuar.',
    'auth.logout.done': 'Você saiu.',
    'auth.password.title': 'Alterar senha',
    'auth.password.current': 'Senha atual',
    'auth.password.new': 'Nova senha',
    'auth.password.confirm': 'Repita a nova senha',
    'auth.password.submit': 'Alterar senha',
    'auth.password.wrongCurrent': 'A senha atual está incorreta.',
    'auth.password.tooShort': 'Use pelo menos {min} caracteres.',
    'auth.password.mismatch': 'As duas novas senhas são diferentes.',
    'auth.password.changed': 'Sua senha foi alterada.',
    'auth.locale.title': 'Idioma',
    'auth.locale.saved': 'Idioma salvo.',
    'auth.locale.auto': 'Conforme o navegador'
  }
}

export default messages
